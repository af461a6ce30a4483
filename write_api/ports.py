"""What the write API needs, as small ports, and the FastAPI dependencies that resolve them.

The adapters come from the role's composition root (infra/bootstrap.py), held on
`app.state`; routes and the gateway see only these Protocols.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request

from commands.messages import Command, Done
from infra.idempotency import Claim, StoredResponse

Clock = Callable[[], datetime]
# A command's follow-up (e.g. StartPayment after PlaceBooking): the Done and answer fields.
FollowUp = Callable[[Done, str], tuple[Done, dict[str, Any]]]


class CommandBus(Protocol):
    """The event log's front door: one command in, what it did out."""

    def handle(self, command: Command) -> Done: ...


class Idempotency(Protocol):
    """Where Idempotency-Keys and their answers are kept."""

    def claim(self, scope: str, key: str, fingerprint: str) -> Claim | StoredResponse: ...

    def complete(
        self, scope: str, key: str, response: StoredResponse, fingerprint: str = ""
    ) -> StoredResponse | None:
        """Keep `response` for the key; the answer stored first if another request won."""

    def abandon(self, scope: str, key: str) -> None: ...


class Delivery(Protocol):
    """Something was written: whoever delivers it to the read side may look now."""

    def nudge(self) -> None: ...


def _container(request: Request) -> Any:
    return request.app.state.container


async def get_bus(request: Request) -> CommandBus:
    bus: CommandBus = _container(request).app
    return bus


async def get_idempotency(request: Request) -> Idempotency:
    store: Idempotency = _container(request).idempotency
    return store


async def get_follow_ups(request: Request) -> Mapping[type[Command], FollowUp]:
    follow_ups: Mapping[type[Command], FollowUp] = _container(request).payments.follow_ups
    return follow_ups


async def get_delivery(request: Request) -> Delivery:
    delivery: Delivery = _container(request)
    return delivery


async def get_clock(request: Request) -> Clock:
    clock: Clock = _container(request).clock
    return clock


CommandBusDep = Annotated[CommandBus, Depends(get_bus)]
IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]
FollowUpsDep = Annotated[Mapping[type[Command], FollowUp], Depends(get_follow_ups)]
DeliveryDep = Annotated[Delivery, Depends(get_delivery)]
ClockDep = Annotated[Clock, Depends(get_clock)]
