"""Request bodies over the limit are a 413 before anything parses them or checks the token.

A declared Content-Length over the limit is refused at once; a body sent
without one (chunked) is read up to the limit and refused as soon as it
passes it. Bodies within the limit are handed on unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.web.problems import problem


class BodyLimitMiddleware:
    """ASGI middleware; `limit` is read per request, so settings may be swapped in tests."""

    def __init__(self, app: ASGIApp, limit: Callable[[Scope], int]) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is None and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body to count
            return
        limit = self.limit(scope)
        if declared is not None:
            if not declared.isdigit() or len(declared) > 18:
                await _refuse(scope, receive, send, 400, "malformed-content-length", limit)
                return
            if int(declared) > limit:
                await _refuse(scope, receive, send, 413, "body-too-large", limit)
                return
        body = await _read_at_most(receive, limit)
        if body is None:
            await _refuse(scope, receive, send, 413, "body-too-large", limit)
            return
        await self.app(scope, _replay(body, receive), send)


async def _read_at_most(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)  # the client left; the app will see the same
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as servers do

    return replay


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, code: str, limit: int
) -> None:
    if status == 413:
        title, detail = "Request body too large", f"the request body may be at most {limit} bytes"
    else:
        title, detail = "Malformed Content-Length", "Content-Length must be a number of bytes"
    response = problem(status, code, title, detail, headers={"Connection": "close"})
    await response(scope, receive, send)
