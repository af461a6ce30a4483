"""Gives every request its PostgreSQL deadline (SLOTWISE_DB_REQUEST_TIMEOUT_SECONDS)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from infra.pg_deadline import REQUEST_DEADLINE


class DeadlineMiddleware:
    """Sets the deadline in the request's context; its worker threads inherit it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            settings = scope["app"].state.container.settings
            REQUEST_DEADLINE.set(settings.db_request_timeout_seconds)
        await self.app(scope, receive, send)
