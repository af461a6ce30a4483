"""Write API routers: each route turns a schema into a command and runs it."""
