"""App factories' shared parts: the lifespan that owns the container, and health routes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio
from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.telemetry import TelemetryConfig
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from sqlalchemy import text
from starlette.types import Scope

from infra.bootstrap import Container
from infra.health import lag, production_probes
from infra.web import openapi, problems
from infra.web.bodylimit import BodyLimitMiddleware
from infra.web.correlation import CorrelationMiddleware
from infra.web.cors import SettingsCorsMiddleware
from infra.web.deadline import DeadlineMiddleware
from infra.web.observe import ObserveMiddleware
from infra.web.parameters import require_clean_parameters
from infra.web.throttle import RateLimitMiddleware


def lifespan_for(
    container: Container | None,
    build: Callable[[], Container],
    wire: Callable[[Container], object],
) -> Callable[[FastAPI], Any]:
    """Use `container` if given (tests, `slotwise dev`), else `build` one and close it at exit.

    `wire` turns the role's adapters into the API's ports (`app.state.ports`), once, at start:
    a port the role did not build fails the start, not a request.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = container is None
        app.state.container = container or build()
        try:
            app.state.ports = wire(app.state.container)
            yield
        finally:
            if owned:
                app.state.container.close()

    return lifespan


async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


# The process's own health and metrics read the whole role; the API routes see only ports.
ContainerDep = Annotated[Container, Depends(get_container)]
health = APIRouter(tags=["health"])
LIMITS = (
    "Every request but /health is rate-limited per client address and per token subject "
    "(429 problem+json with Retry-After; RateLimit-Limit, -Remaining and -Reset on every "
    "limited answer). Request bodies over the configured maximum (64 KiB by default) get 413 "
    "before they are parsed. Path, query and header parameters with NUL, control characters "
    "or lone surrogates get 422 naming the parameter. Metrics: GET /metrics (Prometheus)."
)


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


NOT_READY = {
    "description": "A dependency is down: `checks` says which",
    "content": {"application/json": {"schema": {"type": "object"}}},
}
METRICS = {"content": {"text/plain": {"schema": {"type": "string"}}}}


@health.get("/ready", response_model=None, responses={503: NOT_READY})
async def readiness(container: ContainerDep) -> JSONResponse:
    """Readiness: every configured dependency answers; parked events and lag are counted."""
    checks = await probe_all(dependency_probes(container), container.settings.ready_timeout_seconds)
    ready = all(v == "ok" for v in checks.values())
    details: dict[str, Any] = {}
    if ready:  # counted only when every database answered (nothing here can hang then)
        details = await to_thread.run_sync(_details, container)
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks, **details},
        status_code=200 if ready else 503,
    )


def dependency_probes(container: Container) -> dict[str, Callable[[], object]]:
    def read_db() -> None:
        with container.read_db.reader.connect() as conn:
            conn.execute(text("SELECT 1"))

    probes: dict[str, Callable[[], object]] = {
        "event_store": container.app.recorder.max_notification_id
    }
    if container.built_read_db is not None:  # the write-api role has no read models
        probes["read_db"] = read_db
    return {**probes, **production_probes(container)}


async def probe_all(probes: dict[str, Callable[[], object]], timeout: float) -> dict[str, str]:
    """Run every probe at once in threads; one that has not answered by `timeout` failed."""
    checks = dict.fromkeys(probes, "error: no answer in time")

    async def run(name: str, probe: Callable[[], object]) -> None:
        # abandon_on_cancel: a hung probe's thread is left behind, never waited for
        checks[name] = await to_thread.run_sync(_check, probe, abandon_on_cancel=True)

    with anyio.move_on_after(timeout):
        async with anyio.create_task_group() as group:
            for name, probe in probes.items():
                group.start_soon(run, name, probe)
    return checks


def _details(container: Container) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if container.built_runtime is not None:
        details["dead_letters"] = container.dead_letters.count()
    if container.kafka_progress is not None:
        details["lag"] = lag(container)  # events the relay and each projector have yet to apply
        details["relay_dead_letters"] = container.kafka_progress.relay_parked()
    return details


@health.get("/metrics", response_class=Response, responses={200: METRICS})
def metrics(container: ContainerDep) -> Response:
    """Prometheus metrics of this process (text exposition format)."""
    return Response(container.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


NO_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "auto_configure": False,
}


def _body_limit(scope: Scope) -> int:
    limit: int = scope["app"].state.container.settings.max_body_bytes
    return limit


def new_app(
    title: str,
    description: str,
    lifespan: Callable[[FastAPI], Any],
    api: str = "api",
    models: Sequence[type[BaseModel]] = (),
) -> FastAPI:
    """An app with problem+json errors, health, metrics, limits and request logs.

    Middleware, outermost first: CORS (so a browser can read even a 429), correlation id,
    request log and metrics, the request's PostgreSQL deadline, rate limits, body limit (so
    even a 413 or a 429 carries its X-Correlation-Id and is logged).
    """
    app = FastAPI(
        title=title,
        description=f"{description}\n\n{LIMITS}",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(require_clean_parameters)],
        # SlotWise reports through its own request log and Prometheus metrics (ObserveMiddleware);
        # FastAPI's OpenTelemetry hooks would look for configured providers on every request.
        telemetry=NO_TELEMETRY,
    )
    problems.install(app)
    openapi.install(app, models)  # `models`: schemas the routes' problems name
    app.include_router(health)
    app.add_middleware(BodyLimitMiddleware, limit=_body_limit)  # added first: innermost
    app.add_middleware(RateLimitMiddleware, api=api)
    app.add_middleware(DeadlineMiddleware)
    app.add_middleware(ObserveMiddleware, api=api)
    app.add_middleware(CorrelationMiddleware)
    app.add_middleware(SettingsCorsMiddleware)  # added last: outermost
    return app
