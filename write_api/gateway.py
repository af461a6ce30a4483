"""Runs one command for one HTTP request: idempotency, cause, error mapping, consistency token."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from fastapi.responses import Response

from commands.messages import Command, CommandContext, Done
from domain.errors import DomainError
from infra.idempotency import Claim, StoredResponse
from infra.web.deps import ActorDep
from infra.web.problems import domain_problem
from write_api.ports import (
    CommandBus,
    CommandBusDep,
    Delivery,
    DeliveryDep,
    FollowUp,
    FollowUpsDep,
    Idempotency,
    IdempotencyDep,
)

log = logging.getLogger(__name__)
TOKEN_HEADER = "X-Consistency-Token"
# What else a route's answer says after its command succeeded, and the Done covering it.
Then = Callable[[Done], tuple[Done, dict[str, Any]]]
# The read API's path of what a 201 created, from what the command did.
Locate = Callable[[Done], str]


def consistency_token(position: int) -> str:
    return str(position)


def result_body(done: Done, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(done.id),
        "version": done.version,
        "consistency_token": consistency_token(done.position),
        **done.fields,
        **extra,
    }


@dataclass(frozen=True)
class Outcome:
    """A command's answer, and whether it is final (a key keeps answering with it)."""

    response: Response
    final: bool


class CommandGateway:
    """Sends a route's command with the request's identity, at most once per Idempotency-Key."""

    def __init__(
        self,
        bus: CommandBus,
        idempotency: Idempotency,
        follow_ups: Mapping[type[Command], FollowUp],
        delivery: Delivery,
        scope: str,
        key: str | None,
        fingerprint: str,
        correlation_id: str,
    ) -> None:
        self.bus, self.idempotency, self.follow_ups = bus, idempotency, follow_ups
        self.delivery = delivery
        self.scope, self.key, self.fingerprint = scope, key, fingerprint
        self.correlation_id = correlation_id

    def send(
        self,
        command: Command,
        status: int = 200,
        location: Locate | None = None,
        then: Then | None = None,
    ) -> Response:
        if self.key is None:
            context = CommandContext.new(self.correlation_id)
            command = dataclasses.replace(command, context=context)
            return self._execute(command, status, location, then).response
        store = self.idempotency
        claim = store.claim(self.scope, self.key, self.fingerprint)
        if isinstance(claim, StoredResponse):
            headers = {**claim.headers, "Idempotent-Replayed": "true"}
            return Response(claim.body, status_code=claim.status, headers=headers)
        command = dataclasses.replace(command, context=self._keyed_context(claim))
        try:
            outcome = self._execute(command, status, location, then)
        except BaseException:
            store.abandon(self.scope, self.key)  # a retry replays it, finding what it did
            raise
        response = outcome.response
        if not outcome.final:
            store.abandon(self.scope, self.key)  # "try again" is no answer to keep for good
            return response
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        try:
            answer = StoredResponse(response.status_code, bytes(response.body), headers)
            first = store.complete(self.scope, self.key, answer, self.fingerprint)
        except DomainError as error:  # the same key with another body answered first
            return domain_problem(error)
        except Exception:  # the answer stands; a retry replays the command and finds its effect
            log.exception("could not store the answer for an Idempotency-Key")
            return response
        if first is not None:  # a concurrent request with this key answered first: say the same
            replayed = {**first.headers, "Idempotent-Replayed": "true"}
            return Response(first.body, status_code=first.status, headers=replayed)
        return response

    def _keyed_context(self, claim: Claim) -> CommandContext:
        if claim.replay:
            return CommandContext.replayable_as(claim.command_id, self.correlation_id)
        return CommandContext(claim.command_id, self.correlation_id, str(claim.command_id))

    def _execute(
        self, command: Command, status: int, location: Locate | None, then: Then | None
    ) -> Outcome:
        extra: dict[str, Any] = {}
        follow_up = self.follow_ups.get(type(command))
        try:
            done = self.bus.handle(command)
            if follow_up is not None:  # e.g. StartPayment after PlaceBooking
                done, extra = follow_up(done, self.correlation_id)
            if then is not None:
                done, more = then(done)
                extra = {**extra, **more}
        except DomainError as error:
            return Outcome(domain_problem(error), final=not error.transient)
        self.delivery.nudge()
        headers = {TOKEN_HEADER: consistency_token(done.position)}
        if location is not None:
            headers["Location"] = location(done)
        answer = Response(
            orjson.dumps(result_body(done, **extra)),
            status_code=status,
            media_type="application/json",
            headers=headers,
        )
        return Outcome(answer, final=True)


def _fingerprint(request: Request, body: bytes) -> str:
    try:
        canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS) if body else b""
    except orjson.JSONDecodeError:
        canonical = body
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + canonical)
    return digest.hexdigest()


async def get_gateway(
    request: Request,
    actor: ActorDep,
    bus: CommandBusDep,
    idempotency: IdempotencyDep,
    follow_ups: FollowUpsDep,
    delivery: DeliveryDep,
) -> CommandGateway:
    body = await request.body()
    key = request.headers.get("Idempotency-Key")
    correlation_id = getattr(request.state, "correlation_id", None) or "-"
    fingerprint = _fingerprint(request, body)
    return CommandGateway(
        bus, idempotency, follow_ups, delivery, actor.id, key, fingerprint, correlation_id
    )


GatewayDep = Annotated[CommandGateway, Depends(get_gateway)]
