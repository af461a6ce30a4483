"""X-Correlation-Id: taken from the request when it is a sane token, else made; echoed back.

The id reaches every event the request causes (through the command context)
and every log line written while the request is handled (`infra.logs`).
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from uuid import uuid4

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Correlation-Id"
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
correlation_id: ContextVar[str] = ContextVar("slotwise_correlation_id", default="-")


def sane_or_new(raw: str | None) -> str:
    """The caller's id if it is 1-128 characters of [A-Za-z0-9._:-], else a new one."""
    if raw is not None and _SANE.fullmatch(raw):
        return raw
    return uuid4().hex


class CorrelationMiddleware:
    """Pure ASGI middleware: sets request.state.correlation_id and the response header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == HEADER.lower().encode()),
            None,
        )
        value = sane_or_new(raw)
        scope.setdefault("state", {})["correlation_id"] = value

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != HEADER.lower().encode()]
                message["headers"] = [*headers, (HEADER.lower().encode(), value.encode())]
            await send(message)

        token = correlation_id.set(value)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)
