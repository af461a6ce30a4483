"""CORS from SLOTWISE_CORS_ORIGINS: browsers on those origins may call the API; none by default.

The origins live in the container's settings, which exist only once the
lifespan has run, so Starlette's CORSMiddleware is built at the first request.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from infra.web.correlation import HEADER as CORRELATION
from infra.web.ratelimit import RATE_LIMIT_HEADERS

# What a browser script may read from an answer besides the CORS-safelisted headers.
EXPOSED = ("Location", "X-Consistency-Token", CORRELATION, "Retry-After", *RATE_LIMIT_HEADERS)
ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "Last-Event-ID",
    "X-Consistency-Token",
    CORRELATION,
)


class SettingsCorsMiddleware:
    """Starlette's CORSMiddleware with the settings' origins (credentials never allowed)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._inner: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._inner is None:
            self._inner = self._build(scope["app"].state.container.settings.cors_origin_list)
        await self._inner(scope, receive, send)

    def _build(self, origins: list[str]) -> ASGIApp:
        if not origins:
            return self.app
        return CORSMiddleware(
            self.app,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=list(ALLOWED_HEADERS),
            allow_credentials=False,
            expose_headers=list(EXPOSED),
            max_age=600,
        )
