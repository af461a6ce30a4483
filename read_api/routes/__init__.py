"""Read API routers."""
