"""The owner's dashboard and the booking widget: static pages shipped in the package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles

from read_api.ports import ConfigDep

STATIC = Path(__file__).resolve().parent.parent / "static"
router = APIRouter(tags=["pages"], include_in_schema=False)


def page_config(request: Request, config: ConfigDep) -> dict[str, Any]:
    """Where the pages send commands (SLOTWISE_WRITE_API_URL, else this origin) and, when an
    OpenID Connect provider is configured, where the dashboard signs in."""
    write = config.write_api_url or str(request.base_url)
    oidc = None
    if config.oidc_issuer:
        oidc = {
            "issuer": config.oidc_issuer,
            "client_id": config.oidc_client_id,
            "scope": config.oidc_scope,
        }
    return {"write_api_url": write.rstrip("/"), "oidc": oidc}


router.add_api_route("/dashboard/config.json", page_config, methods=["GET"])
router.add_api_route("/widget/config.json", page_config, methods=["GET"])


def mount_pages(app: FastAPI) -> None:
    """Serve /dashboard/ and /widget/ (index.html for the bare folder)."""
    app.include_router(router)
    for name in ("dashboard", "widget"):
        app.mount(f"/{name}", StaticFiles(directory=STATIC / name, html=True), name=name)
