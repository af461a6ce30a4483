"""The ASGI middleware that applies the rate limiter to every request but /health.

It identifies the caller by client address and, when the bearer token
verifies, by the token's subject; the verified result is left in the request
state so the auth dependency does not verify the same token twice.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.auth import KeysUnavailable, TokenVerifier, Unauthenticated
from infra.web.problems import problem
from infra.web.ratelimit import Quota

EXEMPT = frozenset({"/health"})


class RateLimitMiddleware:
    """429 problem+json over the limit; RateLimit-* headers on every limited answer."""

    def __init__(self, app: ASGIApp, api: str) -> None:
        self.app, self.api = app, api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        container = scope["app"].state.container
        limiter = container.rate_limiter
        address = scope["client"][0] if scope.get("client") else None
        subject = await _subject(scope, container.verifier)
        if limiter.blocking:
            quota = await to_thread.run_sync(limiter.check, address, subject, self.api)
        else:
            quota = limiter.check(address, subject, self.api)
        if quota is None:
            await self.app(scope, receive, send)
        elif not quota.allowed:
            container.metrics.rate_limited.labels(self.api, quota.scope).inc()
            await _too_many(quota)(scope, receive, send)
        else:
            await self.app(scope, receive, _with_headers(send, quota))


async def _subject(scope: Scope, verifier: TokenVerifier) -> str | None:
    token = bearer_token(scope)
    if token is None:
        return None
    result: Any
    try:
        if verifier.may_block:
            result = await to_thread.run_sync(verifier.verify, token)
        else:
            result = verifier.verify(token)
    except (Unauthenticated, KeysUnavailable) as error:
        result = error  # the auth dependency raises it where a route needs a caller
    scope.setdefault("state", {})["verified"] = (token, result)
    return None if isinstance(result, Exception) else str(result.id)


def bearer_token(scope: Scope) -> str | None:
    """The credentials of `Authorization: Bearer ...`, split as FastAPI's HTTPBearer does."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            return credentials if scheme.lower() == "bearer" and credentials else None
    return None


def _too_many(quota: Quota) -> Any:
    per = "client address" if quota.scope == "address" else "token"
    return problem(
        429,
        "rate-limited",
        "Too many requests",
        f"more than {quota.limit} requests per {quota.window} from this {per}; "
        f"retry after {quota.headers()['Retry-After']} seconds",
        headers=quota.headers(),
    )


def _with_headers(send: Send, quota: Quota) -> Send:
    extra = [(k.lower().encode(), v.encode()) for k, v in quota.headers().items()]

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return send_with_headers
