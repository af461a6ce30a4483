"""The Business aggregate and the slug index that keeps slugs unique."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import Aggregate
from domain.closures import closure_id_of, legacy_closure_id
from domain.errors import (
    ClosureNotFound,
    InvalidInput,
    ResourceNotFound,
    ResourceStateConflict,
    TimeOffNotFound,
)
from domain.notify import NotificationSettings
from domain.payment import PaymentSettings
from domain.resource_profile import ResourceProfile
from domain.resources import ResourceCalendar, resource_calendar
from domain.slots import Calendar
from domain.text import require_visible
from domain.values import POLICY_LIMITS, BookingPolicy, Closure, parse_weekly, zone

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
MAX_CAPACITY = 1000
MAX_ADDRESS = 300
SLUG_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotwise.dev/slug")
RESOURCE_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotwise.dev/resource")


def require_capacity(capacity: int) -> int:
    if not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidInput(f"capacity must be between 1 and {MAX_CAPACITY}", field="capacity")
    return capacity


def require_address(address: str | None) -> str | None:
    """A postal address as the business writes it (lines allowed); blank means none."""
    if address is None or not address.strip():
        return None
    if len(address) > MAX_ADDRESS:
        raise InvalidInput(f"address is at most {MAX_ADDRESS} characters", field="address")
    return require_visible(address, "address").strip()


def require_slug(slug: str) -> str:
    if not _SLUG.fullmatch(slug):
        raise InvalidInput(
            "slug must be 1-64 lowercase letters, digits or inner hyphens", field="slug"
        )
    return slug


# The policy a business registered before v3 events got: the defaults of that release.
POLICY_BEFORE_V3 = {
    "min_notice_minutes": 0,
    "max_advance_days": 365,
    "cancellation_deadline_hours": 0,
    "requires_confirmation": False,
}


class Business(Aggregate):
    """A business that publishes services and takes bookings in its own time zone."""

    class Registered(Aggregate.Created):
        """v3 records the booking policy, so no code default decides it on replay."""

        owner_id: str
        name: str
        slug: str
        timezone: str
        capacity: int
        min_notice_minutes: int
        max_advance_days: int
        cancellation_deadline_hours: int
        requires_confirmation: bool

        class_version = 3

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state.update(POLICY_BEFORE_V3)

    @event(Registered)
    def __init__(
        self,
        owner_id: str,
        name: str,
        slug: str,
        timezone: str,
        capacity: int,
        min_notice_minutes: int,
        max_advance_days: int,
        cancellation_deadline_hours: int,
        requires_confirmation: bool,
    ) -> None:
        self.owner_id = owner_id
        self.name = name
        self.slug = slug
        self.timezone = timezone
        self.capacity = capacity
        self.weekly: list[dict[str, str]] = []
        self.closures: list[dict[str, Any]] = []
        self.policy: dict[str, Any] = {
            "min_notice_minutes": min_notice_minutes,
            "max_advance_days": max_advance_days,
            "cancellation_deadline_hours": cancellation_deadline_hours,
            "requires_confirmation": requires_confirmation,
        }
        self.furthest_advance_days = max_advance_days

    @classmethod
    def register(
        cls,
        owner_id: str,
        name: str,
        slug: str,
        timezone: str,
        capacity: int,
        policy: BookingPolicy | None = None,
        *,
        id: UUID | None = None,
    ) -> Business:
        zone(timezone)
        require_slug(slug)
        require_visible(name, "name")
        require_capacity(capacity)
        return cls._create(
            cls.Registered,
            id=id,
            owner_id=owner_id,
            name=name.strip(),
            slug=slug,
            timezone=timezone,
            capacity=capacity,
            **vars(policy or BookingPolicy()),
        )

    def set_hours(self, weekly: list[dict[str, Any]]) -> None:
        windows = parse_weekly(weekly)
        self._set_hours([w.as_dict() for w in windows])

    @event("HoursSet")
    def _set_hours(self, weekly: list[dict[str, str]]) -> None:
        self.weekly = weekly

    def change_profile(
        self, name: str | None = None, timezone: str | None = None, capacity: int | None = None
    ) -> None:
        """Rename, move to another time zone or change capacity; unnamed fields stay."""
        if name is not None:
            require_visible(name, "name")
        if timezone is not None:
            zone(timezone)
        if capacity is not None:
            require_capacity(capacity)
        self._change_profile(
            self.name if name is None else name.strip(),
            self.timezone if timezone is None else timezone,
            self.capacity if capacity is None else capacity,
        )

    @event("ProfileChanged")
    def _change_profile(self, name: str, timezone: str, capacity: int) -> None:
        self.name, self.timezone, self.capacity = name, timezone, capacity

    @property
    def address(self) -> str | None:
        """Where its appointments take place (None: not given; businesses before addresses)."""
        return self.__dict__.get("_address")

    def set_address(self, address: str | None) -> None:
        """Set or (blank or None) remove the address; nothing is recorded if it is unchanged."""
        wanted = require_address(address)
        if wanted != self.address:
            self._set_address(wanted)

    @event("AddressSet")
    def _set_address(self, address: str | None) -> None:
        self._address = address

    class ClosureAdded(Aggregate.Event):
        """v3 records the closure's id; older ones get one derived from their content."""

        closure_id: UUID
        start: datetime
        end: datetime
        reason: str

        class_version = 3

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["closure_id"] = legacy_closure_id(
                state["originator_id"], state["start"], state["end"], state["reason"]
            )

    def add_closure(self, closure_id: UUID, start: datetime, end: datetime, reason: str) -> None:
        closure = Closure.of(start, end, reason)
        self._add_closure(closure_id, closure.start, closure.end, closure.reason)

    @event(ClosureAdded)
    def _add_closure(self, closure_id: UUID, start: datetime, end: datetime, reason: str) -> None:
        closure = {"id": closure_id, "start": start, "end": end, "reason": reason}
        self.closures = [*self.closures, closure]

    def closure(self, closure_id: UUID) -> dict[str, Any]:
        """The closure with that id (its `id` filled in), or ClosureNotFound."""
        for closure in self.closures:
            if closure_id_of(self.id, closure) == closure_id:
                return {**closure, "id": closure_id}
        raise ClosureNotFound(f"business {self.id} has no closure {closure_id}")

    def remove_closure(self, closure_id: UUID) -> None:
        self.closure(closure_id)
        self._remove_closure(closure_id)

    @event("ClosureRemoved")
    def _remove_closure(self, closure_id: UUID) -> None:
        self.closures = [c for c in self.closures if closure_id_of(self.id, c) != closure_id]

    def set_policy(self, policy: BookingPolicy) -> None:
        self._set_policy(**policy.__dict__)

    @event("PolicySet")
    def _set_policy(
        self,
        min_notice_minutes: int,
        max_advance_days: int,
        cancellation_deadline_hours: int,
        requires_confirmation: bool,
    ) -> None:
        self.policy = {
            "min_notice_minutes": min_notice_minutes,
            "max_advance_days": max_advance_days,
            "cancellation_deadline_hours": cancellation_deadline_hours,
            "requires_confirmation": requires_confirmation,
        }
        # Bookings were accepted up to the longest advance the business ever allowed.
        self.furthest_advance_days = max(self.booking_horizon_days(), max_advance_days)

    def booking_horizon_days(self) -> int:
        """How far ahead of now a booking of this business can start, in days."""
        # Snapshots taken before the horizon was kept lack it: assume the widest policy.
        furthest: int = getattr(self, "furthest_advance_days", POLICY_LIMITS["max_advance_days"])
        return furthest

    def configure_payments(self, settings: PaymentSettings) -> None:
        self._configure_payments(settings.enabled, settings.hold_minutes)

    @event("PaymentsConfigured")
    def _configure_payments(self, enabled: bool, hold_minutes: int) -> None:
        self.payments = {"enabled": enabled, "hold_minutes": hold_minutes}

    def payment_settings(self) -> PaymentSettings:
        """Online payment is off until a PaymentsConfigured event turns it on."""
        # Snapshots taken before payments existed carry no `payments` attribute.
        recorded: dict[str, Any] | None = getattr(self, "payments", None)
        return PaymentSettings(**recorded) if recorded else PaymentSettings()

    # -- bookable resources: part of the business's calendar, like hours and closures ----

    def resource_list(self) -> list[dict[str, Any]]:
        """The business's resources, in the order they were added."""
        # Snapshots taken before resources existed carry no `resources`.
        found: dict[str, dict[str, Any]] = getattr(self, "resources", {})
        return list(found.values())

    def resource(self, resource_id: UUID) -> dict[str, Any]:
        found: dict[str, dict[str, Any]] = getattr(self, "resources", {})
        if str(resource_id) not in found:
            raise ResourceNotFound(f"business {self.id} has no resource {resource_id}")
        return found[str(resource_id)]

    def resource_calendars(self) -> list[ResourceCalendar]:
        return [resource_calendar(r, self.weekly) for r in self.resource_list()]

    def add_resource(self, resource_id: UUID, profile: ResourceProfile) -> None:
        self._add_resource(resource_id, **profile.as_event_fields())

    @event("ResourceAdded")
    def _add_resource(
        self,
        resource_id: UUID,
        name: str,
        kind: str,
        category: str,
        metadata: dict[str, Any],
        weekly: list[dict[str, str]] | None,
    ) -> None:
        resources = dict(getattr(self, "resources", {}))
        resources[str(resource_id)] = {
            "id": resource_id,
            "name": name,
            "kind": kind,
            "category": category,
            "metadata": metadata,
            "weekly": weekly,
            "time_off": [],
            "active": True,
        }
        self.resources = resources

    def change_resource(self, resource_id: UUID, profile: ResourceProfile) -> None:
        self.resource(resource_id)
        self._change_resource(resource_id, **profile.as_event_fields())

    @event("ResourceChanged")
    def _change_resource(
        self,
        resource_id: UUID,
        name: str,
        kind: str,
        category: str,
        metadata: dict[str, Any],
        weekly: list[dict[str, str]] | None,
    ) -> None:
        fields = {"name": name, "kind": kind, "category": category, "metadata": metadata}
        self._put_resource(resource_id, weekly=weekly, **fields)

    def set_resource_active(self, resource_id: UUID, active: bool) -> None:
        if self.resource(resource_id)["active"] == active:
            state = "active" if active else "deactivated"
            raise ResourceStateConflict(f"the resource is {state} already")
        if active:
            self._reactivate_resource(resource_id)
        else:
            self._deactivate_resource(resource_id)

    @event("ResourceDeactivated")
    def _deactivate_resource(self, resource_id: UUID) -> None:
        self._put_resource(resource_id, active=False)

    @event("ResourceReactivated")
    def _reactivate_resource(self, resource_id: UUID) -> None:
        self._put_resource(resource_id, active=True)

    def add_time_off(
        self, resource_id: UUID, time_off_id: UUID, start: datetime, end: datetime, reason: str
    ) -> None:
        self.resource(resource_id)
        span = Closure.of(start, end, reason)
        self._add_time_off(resource_id, time_off_id, span.start, span.end, span.reason)

    @event("ResourceTimeOffAdded")
    def _add_time_off(
        self, resource_id: UUID, time_off_id: UUID, start: datetime, end: datetime, reason: str
    ) -> None:
        entry = {"id": time_off_id, "start": start, "end": end, "reason": reason}
        time_off = [*self.resource(resource_id)["time_off"], entry]
        self._put_resource(resource_id, time_off=time_off)

    def time_off(self, resource_id: UUID, time_off_id: UUID) -> dict[str, Any]:
        for entry in self.resource(resource_id)["time_off"]:
            if entry["id"] == time_off_id:
                return dict(entry)
        raise TimeOffNotFound(f"resource {resource_id} has no time off {time_off_id}")

    def remove_time_off(self, resource_id: UUID, time_off_id: UUID) -> None:
        self.time_off(resource_id, time_off_id)
        self._remove_time_off(resource_id, time_off_id)

    @event("ResourceTimeOffRemoved")
    def _remove_time_off(self, resource_id: UUID, time_off_id: UUID) -> None:
        kept = [t for t in self.resource(resource_id)["time_off"] if t["id"] != time_off_id]
        self._put_resource(resource_id, time_off=kept)

    def _put_resource(self, resource_id: UUID, **changes: Any) -> None:
        resources = dict(self.resources)
        resources[str(resource_id)] = {**resources[str(resource_id)], **changes}
        self.resources = resources

    def set_notifications(self, settings: NotificationSettings) -> None:
        self._set_notifications(**settings.as_event())

    @event("NotificationsSet")
    def _set_notifications(
        self,
        notify_email: str | None,
        reminders: list[str],
        locale: str,
        sms: bool,
        waitlist_offer_minutes: int,
    ) -> None:
        self.notifications = {
            "notify_email": notify_email,
            "reminders": reminders,
            "locale": locale,
            "sms": sms,
            "waitlist_offer_minutes": waitlist_offer_minutes,
        }

    def notification_settings(self) -> NotificationSettings:
        """Nothing is sent to the business and no reminder planned until it says so."""
        recorded: dict[str, Any] | None = getattr(self, "notifications", None)
        return NotificationSettings.from_event(recorded) if recorded else NotificationSettings()

    def calendar(self) -> Calendar:
        return calendar_of(self.timezone, self.weekly, self.closures, self.capacity, self.policy)


def calendar_of(
    timezone: str,
    weekly: list[dict[str, str]],
    closures: list[dict[str, Any]],
    capacity: int,
    policy: dict[str, Any],
) -> Calendar:
    """A Calendar from the plain shapes that events and read models carry."""
    return Calendar(
        timezone=zone(timezone),
        weekly=parse_weekly(weekly),
        closures=tuple(
            Closure(_instant(c["start"]), _instant(c["end"]), c["reason"]) for c in closures
        ),
        capacity=capacity,
        policy=BookingPolicy(**policy),
    )


def _instant(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


class ResourceIndex(Aggregate):
    """Which business a resource belongs to, so `/v1/resources/{id}` finds it."""

    @event("Indexed")
    def __init__(self, resource_id: UUID, business_id: UUID) -> None:
        self.resource_id = resource_id
        self.business_id = business_id

    @staticmethod
    def create_id(resource_id: UUID) -> UUID:
        return uuid5(RESOURCE_NAMESPACE, str(resource_id))


class SlugIndex(Aggregate):
    """Claims a slug: its id derives from the slug, so a second claim conflicts."""

    @event("Claimed")
    def __init__(self, slug: str, business_id: UUID) -> None:
        self.slug = slug
        self.business_id = business_id

    @staticmethod
    def create_id(slug: str) -> UUID:
        return uuid5(SLUG_NAMESPACE, slug)
