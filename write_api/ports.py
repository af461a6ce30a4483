"""What the write API needs, as small ports, and the FastAPI dependencies that resolve them.

`write_api.app.ports_for` fills `WritePorts` from the adapters the role's composition
root built (infra/bootstrap.py), once, when the app starts; routes and the gateway see
only these Protocols. A test swaps an adapter by handing it to the builder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Protocol
from uuid import UUID

from fastapi import Depends, Request

from commands.keeping import KeyedAnswer
from commands.messages import Command, Done
from commands.processes.payment.checkout import PaymentView
from domain.actor import Actor
from infra.idempotency import Claim, StoredResponse

Clock = Callable[[], datetime]
# A command's follow-up (e.g. StartPayment after PlaceBooking): the Done and answer fields.
FollowUp = Callable[[Done, str], tuple[Done, dict[str, Any]]]


class CommandBus(Protocol):
    """The event log's front door: one command in, what it did out."""

    def handle(self, command: Command) -> Done: ...


class Owners(Protocol):
    """Who may act on a business (the same rule the commands apply)."""

    def owned_business(self, actor: Actor, business_id: UUID) -> Any:
        """The business, if `actor` is its staff; raises the domain's error otherwise."""


class EventLog(Protocol):
    """The event store's notification log: how far it goes."""

    def max_notification_id(self) -> int | None: ...


class Idempotency(Protocol):
    """Where Idempotency-Keys and their answers are kept."""

    # True when an answer can ride in its events' transaction (the SQL key store beside
    # an event store that writes it); False for Redis.
    folds: bool

    def claim(self, scope: str, key: str, fingerprint: str) -> Claim | StoredResponse: ...

    def claim_unread(self, scope: str, key: str) -> Claim:
        """Run as a replay without reading the key (only where `folds`: the save checks it)."""

    def keeping(
        self, scope: str, key: str, fingerprint: str, answer: StoredResponse, mark: str
    ) -> KeyedAnswer:
        """The key's row for the recorder to write with the events (`mark`: their position)."""

    def complete(
        self, scope: str, key: str, response: StoredResponse, fingerprint: str = ""
    ) -> StoredResponse | None:
        """Keep `response` for the key; the answer stored first if another request won."""

    def abandon(self, scope: str, key: str) -> None: ...


class Delivery(Protocol):
    """Something was written: whoever delivers it to the read side may look now."""

    def nudge(self) -> None: ...


class Checkout(Protocol):
    """A booking's PaymentIntent, opened (or created, if Stripe was down) for its payer."""

    def open_for(self, actor: Actor, booking_id: UUID, correlation_id: str) -> PaymentView: ...


class PaymentDesk(Protocol):
    """Online payment as the routes see it: is a provider set, checkout, webhook secrets."""

    @property
    def configured(self) -> bool: ...

    @property
    def checkout(self) -> Checkout: ...

    @property
    def webhook_secrets(self) -> tuple[str, ...]: ...


class FeedKeys(Protocol):
    """Calendar feed keys: a rotation makes a new secret and voids the old one."""

    def rotate(self, business_id: str) -> str: ...


class PersonalDataReads(Protocol):
    """What the read models show of a customer's personal data (the erasure's answer)."""

    def bookings_with_personal_data(self, customer_id: str) -> int: ...


@dataclass(frozen=True)
class WritePorts:
    """Every adapter the write API uses, by the port it fills."""

    bus: CommandBus
    owners: Owners
    log: EventLog
    idempotency: Idempotency
    follow_ups: Mapping[type[Command], FollowUp]
    delivery: Delivery
    clock: Clock
    payments: PaymentDesk
    feeds: FeedKeys
    personal_data: PersonalDataReads
    read_api_url: str  # where calendar feeds are served


def ports(request: Request) -> WritePorts:
    found: WritePorts = request.app.state.ports
    return found


async def get_bus(request: Request) -> CommandBus:
    return ports(request).bus


async def get_owners(request: Request) -> Owners:
    return ports(request).owners


async def get_log(request: Request) -> EventLog:
    return ports(request).log


async def get_idempotency(request: Request) -> Idempotency:
    return ports(request).idempotency


async def get_follow_ups(request: Request) -> Mapping[type[Command], FollowUp]:
    return ports(request).follow_ups


async def get_delivery(request: Request) -> Delivery:
    return ports(request).delivery


async def get_clock(request: Request) -> Clock:
    return ports(request).clock


async def get_payments(request: Request) -> PaymentDesk:
    return ports(request).payments


async def get_feeds(request: Request) -> FeedKeys:
    return ports(request).feeds


async def get_personal_data(request: Request) -> PersonalDataReads:
    return ports(request).personal_data


async def get_read_api_url(request: Request) -> str:
    return ports(request).read_api_url


CommandBusDep = Annotated[CommandBus, Depends(get_bus)]
OwnersDep = Annotated[Owners, Depends(get_owners)]
EventLogDep = Annotated[EventLog, Depends(get_log)]
IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]
FollowUpsDep = Annotated[Mapping[type[Command], FollowUp], Depends(get_follow_ups)]
DeliveryDep = Annotated[Delivery, Depends(get_delivery)]
ClockDep = Annotated[Clock, Depends(get_clock)]
PaymentsDep = Annotated[PaymentDesk, Depends(get_payments)]
FeedKeysDep = Annotated[FeedKeys, Depends(get_feeds)]
PersonalDataDep = Annotated[PersonalDataReads, Depends(get_personal_data)]
ReadApiUrlDep = Annotated[str, Depends(get_read_api_url)]
