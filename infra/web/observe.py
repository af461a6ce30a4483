"""One JSON log line and one latency observation per request; command outcomes on writes.

The route label is the route's template (`/v1/bookings/{booking_id}/cancel`),
never the raw path, so ids do not explode the metrics; unmatched paths share
one label.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.logs import SERVER
from infra.web.problems import PROBLEM_CODES

log = logging.getLogger("slotwise.request")
COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CORRELATION_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class ObserveMiddleware:
    """Times each request and reports it to the log and the container's metrics."""

    def __init__(self, app: ASGIApp, api: str) -> None:
        self.app, self.api = app, api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless the app answers
        codes = PROBLEM_CODES.set([])
        server = SERVER.set(self.api)

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            self._report(scope, status, time.perf_counter() - started, PROBLEM_CODES.get())
            SERVER.reset(server)
            PROBLEM_CODES.reset(codes)

    def _report(self, scope: Scope, status: int, seconds: float, codes: list[str] | None) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "<unmatched>"
        method = scope["method"]
        container = getattr(scope["app"].state, "container", None)
        if container is not None:
            metrics = container.metrics
            metrics.requests.labels(self.api, method, template, str(status)).observe(seconds)
            if self.api == "write" and method in COMMAND_METHODS and route is not None:
                result = "ok" if status < 400 else (codes[-1] if codes else f"http-{status}")
                metrics.commands.labels(getattr(route, "name", template), result).inc()
        log.info(
            "%s %s %s",
            method,
            scope["path"],
            status,
            extra={"server": self.api, **_fields(scope, method, template, status, seconds)},
        )


def _fields(scope: Scope, method: str, route: str, status: int, seconds: float) -> dict[str, Any]:
    state = scope.get("state", {})
    fields: dict[str, Any] = {
        "method": method,
        "path": scope["path"],
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
    }
    actor = state.get("actor")
    if actor is not None:
        fields["actor_id"], fields["actor_role"] = actor.id, str(actor.role)
    correlation = state.get("correlation_id") or _header(scope, b"x-correlation-id")
    if correlation and CORRELATION_ID.fullmatch(correlation):
        fields["correlation_id"] = correlation
    if scope.get("client"):
        fields["client"] = scope["client"][0]
    return fields


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
