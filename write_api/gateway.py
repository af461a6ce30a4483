"""Runs one command for one HTTP request: idempotency, cause, error mapping, consistency token."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from fastapi.responses import Response

from commands.keeping import AnswerOffer, KeyAnswered, KeyedAnswer, offering
from commands.messages import Command, CommandContext, Done
from domain.errors import ConcurrencyConflict, DomainError
from infra.idempotency import Claim, StoredResponse
from infra.web.deps import ActorDep
from infra.web.problems import domain_problem
from write_api.ports import CommandBus, Delivery, FollowUp, Idempotency, ports

log = logging.getLogger(__name__)
TOKEN_HEADER = "X-Consistency-Token"
# What else a route's answer says after its command succeeded, and the Done covering it.
Then = Callable[[Done], tuple[Done, dict[str, Any]]]
# The read API's path of what a 201 created, from what the command did.
Locate = Callable[[Done], str]


def consistency_token(position: int) -> str:
    return str(position)


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
        if store.folds:  # the save checks the key (see AnswerOffer): nothing to read first
            claim: Claim | StoredResponse = store.claim_unread(self.scope, self.key)
        else:
            claim = store.claim(self.scope, self.key, self.fingerprint)
        if isinstance(claim, StoredResponse):
            return replayed(claim)
        command = dataclasses.replace(command, context=self._keyed_context(claim))
        offer = self._offer(command, status, location, then) if store.folds else None
        try:
            outcome = self._execute(command, status, location, then, offer)
        except KeyAnswered:  # another request with this key answered first: say the same
            return self._answered_first()
        except BaseException:
            store.abandon(self.scope, self.key)  # a retry replays it, finding what it did
            raise
        response = outcome.response
        if offer is not None and offer.kept is not None:
            return response  # kept with the events, in their transaction: nothing left to do
        if not outcome.final:
            store.abandon(self.scope, self.key)  # "try again" is no answer to keep for good
            return response
        # No event was written (a refusal, a no-op) or the answer could not be told before
        # the save (a follow-up that writes, a `then`): the answer is its own upsert.
        try:
            answer = StoredResponse(
                response.status_code, bytes(response.body), stored_headers(response)
            )
            first = store.complete(self.scope, self.key, answer, self.fingerprint)
        except DomainError as error:  # the same key with another body answered first
            return domain_problem(error)
        except Exception:  # the answer stands; a retry replays the command and finds its effect
            log.exception("could not store the answer for an Idempotency-Key")
            return response
        if first is not None:  # a concurrent request with this key answered first: say the same
            return replayed(first)
        return response

    def _offer(
        self, command: Command, status: int, location: Locate | None, then: Then | None
    ) -> AnswerOffer:
        """The answer the command's save may keep with its events, rendered for the Done the
        save will produce: when nothing after the save writes or changes the answer."""
        follow_up = self.follow_ups.get(type(command))
        settled = getattr(follow_up, "settled", None)
        unsettled = then is not None or (follow_up is not None and settled is None)
        mark = f"slotwise-position-{secrets.token_hex(12)}"

        def render(done: Done, primary: Any) -> KeyedAnswer | None:
            if unsettled:  # told only after the save: the save carries a guard
                return None
            extra = settled(primary) if settled is not None else {}
            if extra is None:  # the follow-up will write: the answer waits for it
                return None
            response = self._answer(done, status, location, extra, token=mark)
            answer = StoredResponse(status, bytes(response.body), stored_headers(response))
            assert self.key is not None
            return self.idempotency.keeping(self.scope, self.key, self.fingerprint, answer, mark)

        assert self.key is not None
        guard = KeyedAnswer.guard(self.scope, self.key)
        return AnswerOffer(command.context.causation_id, render, guard)

    def _answered_first(self) -> Response:
        """The answer another request with this key kept first (our save was undone)."""
        assert self.key is not None
        try:
            found = self.idempotency.claim(self.scope, self.key, self.fingerprint)
        except DomainError as error:  # kept for another body
            return domain_problem(error)
        if isinstance(found, StoredResponse):
            return replayed(found)
        busy = ConcurrencyConflict("another request with this Idempotency-Key is running; retry")
        return domain_problem(busy)  # its answer expired meanwhile: only a retry can tell

    def _keyed_context(self, claim: Claim) -> CommandContext:
        if claim.replay:
            return CommandContext.replayable_as(claim.command_id, self.correlation_id)
        return CommandContext(claim.command_id, self.correlation_id, str(claim.command_id))

    def _execute(
        self,
        command: Command,
        status: int,
        location: Locate | None,
        then: Then | None,
        offer: AnswerOffer | None = None,
    ) -> Outcome:
        extra: dict[str, Any] = {}
        follow_up = self.follow_ups.get(type(command))
        try:
            with offering(offer):
                done = self.bus.handle(command)
            kept = offer.kept if offer is not None else None
            if offer is not None and kept is not None and kept.status is not None:
                # The answer was rendered, follow-up included, and kept with the events.
                if offer.done != done:  # a handler changed its commit's Done: a bug
                    log.error("%s answered %s, kept %s", type(command).__name__, done, offer.done)
                self.delivery.nudge()
                body, headers = kept.filled(offer.position)
                stored = StoredResponse(kept.status, body, orjson.loads(headers))
                return Outcome(as_response(stored), final=True)
            if follow_up is not None:  # e.g. StartPayment after PlaceBooking
                done, extra = follow_up(done, self.correlation_id)
            if then is not None:
                done, more = then(done)
                extra = {**extra, **more}
        except DomainError as error:
            return Outcome(domain_problem(error), final=not error.transient)
        self.delivery.nudge()
        answer = self._answer(done, status, location, extra, consistency_token(done.position))
        return Outcome(answer, final=True)

    def _answer(
        self,
        done: Done,
        status: int,
        location: Locate | None,
        extra: dict[str, Any],
        token: str,
    ) -> Response:
        headers = {TOKEN_HEADER: token}
        if location is not None:
            headers["Location"] = location(done)
        body = {"id": str(done.id), "version": done.version, "consistency_token": token}
        return Response(
            orjson.dumps({**body, **done.fields, **extra}),
            status_code=status,
            media_type="application/json",
            headers=headers,
        )


def stored_headers(response: Response) -> dict[str, str]:
    """The headers an answer is kept with (its length is the body's)."""
    return {k: v for k, v in response.headers.items() if k.lower() != "content-length"}


def as_response(answer: StoredResponse) -> Response:
    return Response(answer.body, status_code=answer.status, headers=answer.headers)


def replayed(answer: StoredResponse) -> Response:
    """A kept answer, given again."""
    headers = {**answer.headers, "Idempotent-Replayed": "true"}
    return Response(answer.body, status_code=answer.status, headers=headers)


def _fingerprint(request: Request, body: bytes) -> str:
    try:
        canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS) if body else b""
    except orjson.JSONDecodeError:
        canonical = body
    # `request.url.path`, without building the whole URL: keys stored before still match.
    path = request.scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    digest = hashlib.sha256(f"{request.method} {path}\n".encode() + canonical)
    return digest.hexdigest()


async def get_gateway(request: Request, actor: ActorDep) -> CommandGateway:
    """The request's gateway. Its ports come straight from the app rather than as four more
    FastAPI dependencies: resolving each costs every command a few microseconds of
    bookkeeping (docs/benchmarks.md, "Issue 19")."""
    body = await request.body()
    key = request.headers.get("Idempotency-Key")
    correlation_id = getattr(request.state, "correlation_id", None) or "-"
    fingerprint = "" if key is None else _fingerprint(request, body)  # only a key needs it
    found = ports(request)
    return CommandGateway(
        found.bus,
        found.idempotency,
        found.follow_ups,
        found.delivery,
        actor.id,
        key,
        fingerprint,
        correlation_id,
    )


GatewayDep = Annotated[CommandGateway, Depends(get_gateway)]
