"""Runs one command for one HTTP request: idempotency, error mapping, consistency token."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from fastapi.responses import Response

from commands.messages import Done
from domain.errors import DomainError
from infra.bootstrap import Container
from infra.idempotency import StoredResponse
from infra.web.deps import ActorDep, ContainerDep
from infra.web.problems import domain_problem

TOKEN_HEADER = "X-Consistency-Token"


def consistency_token(position: int) -> str:
    return str(position)


def result_body(done: Done, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(done.id),
        "version": done.version,
        "consistency_token": consistency_token(done.position),
        **extra,
    }


class CommandGateway:
    def __init__(self, container: Container, scope: str, key: str | None, fingerprint: str) -> None:
        self.container = container
        self.scope, self.key, self.fingerprint = scope, key, fingerprint

    def run(self, handler: Callable[[], Done], status: int = 200) -> Response:
        store = self.container.idempotency
        if self.key is not None:
            stored = store.claim(self.scope, self.key, self.fingerprint)
            if stored is not None:
                headers = {**stored.headers, "Idempotent-Replayed": "true"}
                return Response(stored.body, status_code=stored.status, headers=headers)
        try:
            response = self._execute(handler, status)
        except BaseException:
            if self.key is not None:
                store.release(self.scope, self.key)
            raise
        if self.key is not None:
            headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
            store.complete(
                self.scope,
                self.key,
                StoredResponse(response.status_code, bytes(response.body), headers),
            )
        return response

    def _execute(self, handler: Callable[[], Done], status: int) -> Response:
        try:
            done = handler()
        except DomainError as error:
            return domain_problem(error)
        if self.container.follower is not None:
            self.container.follower.nudge()
        token = consistency_token(done.position)
        return Response(
            orjson.dumps(result_body(done)),
            status_code=status,
            media_type="application/json",
            headers={TOKEN_HEADER: token},
        )


def _fingerprint(request: Request, body: bytes) -> str:
    try:
        canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS) if body else b""
    except orjson.JSONDecodeError:
        canonical = body
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + canonical)
    return digest.hexdigest()


async def get_gateway(request: Request, container: ContainerDep, actor: ActorDep) -> CommandGateway:
    body = await request.body()
    key = request.headers.get("Idempotency-Key")
    return CommandGateway(container, actor.id, key, _fingerprint(request, body))


GatewayDep = Annotated[CommandGateway, Depends(get_gateway)]
