"""App factories' shared parts: the lifespan that owns the container, and health routes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from infra.bootstrap import Container, bootstrap
from infra.web import problems
from infra.web.correlation import CorrelationMiddleware, install_log_correlation
from infra.web.deps import ContainerDep


def lifespan_for(
    container: Container | None, on_start: Callable[[Container], None] | None = None
) -> Callable[[FastAPI], Any]:
    """Use `container` if given (tests, `slotwise dev`), else build one and close it at exit."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = container is None
        app.state.container = container or bootstrap()
        if on_start is not None:
            on_start(app.state.container)
        try:
            yield
        finally:
            if owned:
                app.state.container.close()

    return lifespan


health = APIRouter(tags=["health"])


@health.get("/health")
def liveness() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


def _check(probe: Callable[[], object]) -> str:
    try:
        probe()
    except Exception as error:  # a dependency being down is the answer, not a crash
        return f"error: {type(error).__name__}"
    return "ok"


@health.get("/ready", response_model=None)
def readiness(container: ContainerDep) -> JSONResponse:
    """Readiness: every configured dependency answers; parked events are counted."""

    def read_db() -> None:
        with container.read_db.reader.connect() as conn:
            conn.execute(text("SELECT 1"))

    checks = {
        "event_store": _check(container.app.recorder.max_notification_id),
        "read_db": _check(read_db),
    }
    ready = all(v == "ok" for v in checks.values())
    details: dict[str, Any] = {}
    if checks["read_db"] == "ok":
        details["dead_letters"] = container.dead_letters.count()
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks, **details},
        status_code=200 if ready else 503,
    )


def new_app(title: str, description: str, lifespan: Callable[[FastAPI], Any]) -> FastAPI:
    install_log_correlation()
    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
    )
    problems.install(app)
    app.add_middleware(CorrelationMiddleware)
    app.include_router(health)
    return app
