"""Commands: plain requests to change state, each carrying who asks and why.

HTTP routes, sagas and timers send the same command classes; a command's
context says which request it belongs to (correlation id) and what directly
caused it (causation id: the command itself, or the event a process reacted to).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4, uuid5

from domain.actor import Actor
from domain.business import ResourceIndex
from domain.cause import Cause
from domain.personal import Contact, personal_data_id
from domain.resource_profile import ResourceProfile
from domain.service import ServiceTerms
from domain.values import BookingPolicy


@dataclass(frozen=True)
class CommandContext:
    """Identity of one command: its id, its request's correlation id and its cause.

    Ids of the aggregates a command creates derive from `command_id`, so a
    command retried under the same id (an Idempotency-Key, or a process
    reacting to the same event again) collides with its own earlier effect
    instead of creating twice.
    """

    command_id: UUID
    correlation_id: str
    causation_id: str
    # True when the same command id may have run before (a keyed retry, a redelivery).
    replayable: bool = False

    @classmethod
    def new(cls, correlation_id: str | None = None) -> CommandContext:
        command_id = uuid4()
        return cls(command_id, correlation_id or command_id.hex, str(command_id))

    @classmethod
    def replayable_as(
        cls, command_id: UUID, correlation_id: str, causation_id: str | None = None
    ) -> CommandContext:
        """A context whose command may arrive again under the same id."""
        return cls(command_id, correlation_id, causation_id or str(command_id), replayable=True)

    def new_id(self, kind: str) -> UUID:
        """The id of the `kind` aggregate this command creates: the same on every retry."""
        return uuid5(self.command_id, kind)


@dataclass(frozen=True)
class Command:
    actor: Actor
    context: CommandContext = field(default_factory=CommandContext.new, kw_only=True)

    def cause(self) -> Cause:
        return Cause.of(self.actor, self.context.correlation_id, self.context.causation_id)

    def target(self) -> UUID:
        """The aggregate whose events show whether this command already took effect."""
        raise NotImplementedError


@dataclass(frozen=True)
class RegisterBusiness(Command):
    name: str
    slug: str
    timezone: str
    capacity: int = 1
    address: str | None = None

    def target(self) -> UUID:
        return self.context.new_id("business")


@dataclass(frozen=True)
class BusinessCommand(Command):
    """A command on one existing business."""

    business_id: UUID

    def target(self) -> UUID:
        return self.business_id


@dataclass(frozen=True)
class ChangeProfile(BusinessCommand):
    """Change any of name, time zone, capacity and address; None leaves a field as it is
    (an empty address removes it)."""

    name: str | None = None
    timezone: str | None = None
    capacity: int | None = None
    keep_bookings: bool = False
    address: str | None = None


@dataclass(frozen=True)
class SetHours(BusinessCommand):
    weekly: list[dict[str, Any]]
    keep_bookings: bool = False


@dataclass(frozen=True)
class AddClosure(BusinessCommand):
    start: datetime
    end: datetime
    reason: str = ""
    keep_bookings: bool = False

    def closure_id(self) -> UUID:
        """The new closure's id: the same on every retry of this command."""
        return self.context.new_id("closure")


@dataclass(frozen=True)
class RemoveClosure(BusinessCommand):
    closure_id: UUID


@dataclass(frozen=True)
class SetPolicy(BusinessCommand):
    """Replace the whole booking policy."""

    policy: BookingPolicy


@dataclass(frozen=True)
class ChangePolicy(BusinessCommand):
    """Change some policy fields; the others keep their current values."""

    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CreateService(Command):
    business_id: UUID
    terms: ServiceTerms

    def target(self) -> UUID:
        return self.context.new_id("service")


@dataclass(frozen=True)
class ServiceCommand(Command):
    """A command on one existing service."""

    service_id: UUID

    def target(self) -> UUID:
        return self.service_id


@dataclass(frozen=True)
class UpdateService(ServiceCommand):
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeactivateService(ServiceCommand):
    """Stop taking bookings for the service."""


@dataclass(frozen=True)
class ReactivateService(ServiceCommand):
    """Take bookings for a deactivated service again."""


@dataclass(frozen=True)
class AddResource(Command):
    business_id: UUID
    profile: ResourceProfile

    def target(self) -> UUID:
        return self.business_id


@dataclass(frozen=True)
class ResourceCommand(Command):
    """A command on one existing resource (its business's events show the effect)."""

    resource_id: UUID

    def target(self) -> UUID:
        return ResourceIndex.create_id(self.resource_id)


@dataclass(frozen=True)
class ChangeResource(ResourceCommand):
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeactivateResource(ResourceCommand):
    """Take no new bookings with the resource; its bookings stand."""


@dataclass(frozen=True)
class ReactivateResource(ResourceCommand):
    """Take bookings with the resource again."""


@dataclass(frozen=True)
class AddTimeOff(ResourceCommand):
    start: datetime
    end: datetime
    reason: str = ""
    keep_bookings: bool = False

    def time_off_id(self) -> UUID:
        return self.context.new_id("time-off")


@dataclass(frozen=True)
class RemoveTimeOff(ResourceCommand):
    time_off_id: UUID


@dataclass(frozen=True)
class BookingRequest(Command):
    """What a customer asks for when booking: one booking, or a series."""

    service_id: UUID
    start: datetime
    notes: str = ""
    customer_id: str | None = None
    contact: Contact | None = None
    resource_id: UUID | None = None


@dataclass(frozen=True)
class PlaceBooking(BookingRequest):
    def target(self) -> UUID:
        return self.context.new_id("booking")


@dataclass(frozen=True)
class ErasePersonalData(Command):
    """Crypto-shred everything a customer wrote: delete their key, record that it happened."""

    customer_id: str

    def target(self) -> UUID:
        return personal_data_id(self.customer_id)


@dataclass(frozen=True)
class BookingCommand(Command):
    """A command on one existing booking."""

    booking_id: UUID

    def target(self) -> UUID:
        return self.booking_id


@dataclass(frozen=True)
class RescheduleBooking(BookingCommand):
    start: datetime
    resource_id: UUID | None = None


@dataclass(frozen=True)
class CancelBooking(BookingCommand):
    reason: str = ""


@dataclass(frozen=True)
class ConfirmBooking(BookingCommand):
    """Staff (or the payment saga) confirms a pending booking."""


@dataclass(frozen=True)
class CheckInBooking(BookingCommand):
    """Staff checks the customer in."""


@dataclass(frozen=True)
class CompleteBooking(BookingCommand):
    """Staff completes a checked-in booking."""


@dataclass(frozen=True)
class MarkNoShow(BookingCommand):
    """Staff marks a no-show once the start has passed."""


@dataclass(frozen=True)
class Done:
    """What a successful command reports: the aggregate, its version, the log position,
    and the resource's main fields for the answer (a booking's status, start and end)."""

    id: UUID
    version: int
    position: int
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlaceSeries(BookingRequest):
    """Book `count` occurrences, `every` local days or weeks apart, at one wall-clock time."""

    every: str = "P1W"
    count: int = 1
    mode: str = "all_or_nothing"

    def target(self) -> UUID:
        return self.context.new_id("series")


@dataclass(frozen=True)
class CancelSeries(Command):
    """Cancel a series' occurrences from `start_from` on (None: every future one)."""

    series_id: UUID
    start_from: datetime | None = None
    reason: str = ""

    def target(self) -> UUID:
        return self.series_id
