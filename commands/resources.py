"""Command handlers for bookable resources: add, change, deactivate, reactivate, time off.

Resources are part of their Business (see docs/domain.md): their hours and time off
belong to the calendar bookings are checked against, as the business's hours and
closures do. Time off is also marked in every DayAllocation it covers up to the
booking horizon, in the same save, so a booking racing it writes the same
allocation version and one of the two is refused and re-checked.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any
from uuid import UUID

from commands.base import handles, retry_on_conflict
from commands.held import HeldBookings, views
from commands.messages import (
    AddResource,
    AddTimeOff,
    ChangeResource,
    DeactivateResource,
    Done,
    ReactivateResource,
    RemoveTimeOff,
)
from domain.actor import Actor
from domain.allocation import DayAllocation
from domain.business import Business, ResourceIndex
from domain.errors import BookingsAffected, InvalidInput, ResourceNotFound
from domain.resource_profile import ResourceProfile
from domain.resources import is_open, resource_calendar
from domain.slots import Occupancy, allocation_days

EDITABLE = frozenset(f.name for f in dataclasses.fields(ResourceProfile))
KEEP = '; send "keep_bookings": true to change it anyway and keep them'


def resource_view(business: Business, resource_id: UUID) -> dict[str, Any]:
    """A resource as answers show it."""
    raw = business.resource(resource_id)
    return {
        "business_id": str(business.id),
        "name": raw["name"],
        "kind": raw["kind"],
        "category": raw["category"],
        "metadata": raw["metadata"],
        "weekly": business.weekly if raw["weekly"] is None else raw["weekly"],
        "active": raw["active"],
        "time_off": [time_off_view(t) for t in raw["time_off"]],
    }


def time_off_view(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "time_off_id": str(entry["id"]),
        "start": entry["start"],
        "end": entry["end"],
        "reason": entry["reason"],
    }


class ResourceHandlers(HeldBookings):
    def resource_business(self, actor: Actor, resource_id: UUID) -> Business:
        index_id = ResourceIndex.create_id(resource_id)
        index = self.load_or_none(ResourceIndex, index_id, read_only=True)
        if index is None:
            raise ResourceNotFound(f"no resource with id {resource_id}")
        return self.owned_business(actor, index.business_id)

    def resource_done(self, business: Business, resource_id: UUID, **extra: Any) -> Done:
        answer = {**resource_view(business, resource_id), **extra}
        return self.commit(business, answer=answer, id=resource_id)

    @handles(AddResource)
    @retry_on_conflict
    def add_resource(self, cmd: AddResource) -> Done:
        business = self.owned_business(cmd.actor, cmd.business_id)
        resource_id = cmd.context.new_id("resource")
        business.add_resource(resource_id, cmd.profile)
        index = ResourceIndex(resource_id=resource_id, business_id=business.id)
        return self.commit(
            business, index, answer=resource_view(business, resource_id), id=resource_id
        )

    @handles(ChangeResource)
    @retry_on_conflict
    def change_resource(self, cmd: ChangeResource) -> Done:
        changes = dict(cmd.changes)
        keep = bool(changes.pop("keep_bookings", False))
        unknown = set(changes) - EDITABLE
        if unknown:
            name = sorted(unknown)[0]
            raise InvalidInput(f"unknown resource field {name}", field=name)
        business = self.resource_business(cmd.actor, cmd.resource_id)
        before = resource_calendar(business.resource(cmd.resource_id), business.weekly)
        current = business.resource(cmd.resource_id)
        fields = {k: current[k] for k in EDITABLE}
        business.change_resource(cmd.resource_id, ResourceProfile(**{**fields, **changes}))
        affected: list[dict[str, object]] = []
        if "weekly" in changes:
            affected = self.left_out_by_hours(business, cmd.resource_id, before)
            if affected and not keep:
                detail = f"it would leave {len(affected)} booking(s) outside the resource's hours"
                raise BookingsAffected(detail + KEEP, affected, field="keep_bookings")
        return self.resource_done(business, cmd.resource_id, affected_bookings=affected)

    def left_out_by_hours(
        self, business: Business, resource_id: UUID, before: Any
    ) -> list[dict[str, object]]:
        after = resource_calendar(business.resource(resource_id), business.weekly)
        tz = business.calendar().timezone
        held = [o for o in self.held_ahead(business) if resource_id in o.resources]
        moved = [
            o
            for o in held
            if is_open(before, tz, o.occupied_start, o.occupied_end)
            and not is_open(after, tz, o.occupied_start, o.occupied_end)
        ]
        return views(self.still_to_serve(moved))

    @handles(DeactivateResource)
    @retry_on_conflict
    def deactivate_resource(self, cmd: DeactivateResource) -> Done:
        business = self.resource_business(cmd.actor, cmd.resource_id)
        business.set_resource_active(cmd.resource_id, False)
        return self.resource_done(business, cmd.resource_id)

    @handles(ReactivateResource)
    @retry_on_conflict
    def reactivate_resource(self, cmd: ReactivateResource) -> Done:
        business = self.resource_business(cmd.actor, cmd.resource_id)
        business.set_resource_active(cmd.resource_id, True)
        return self.resource_done(business, cmd.resource_id)

    @handles(AddTimeOff)
    @retry_on_conflict
    def add_time_off(self, cmd: AddTimeOff) -> Done:
        business = self.resource_business(cmd.actor, cmd.resource_id)
        time_off_id = cmd.time_off_id()
        business.add_time_off(cmd.resource_id, time_off_id, cmd.start, cmd.end, cmd.reason)
        entry = business.time_off(cmd.resource_id, time_off_id)
        days = self.marked_days(business, cmd.resource_id, time_off_id, entry)
        held = {o.booking_id: o for d in days for o in d.held.values()}
        hit = [o for o in held.values() if _holds_during(o, cmd.resource_id, entry)]
        affected = views(self.still_to_serve(sorted(hit, key=lambda o: o.start)))
        if affected and not cmd.keep_bookings:
            detail = f"it would leave {len(affected)} booking(s) with the resource off"
            raise BookingsAffected(detail + KEEP, affected, field="keep_bookings")
        answer = {
            **time_off_view(entry),
            "resource_id": str(cmd.resource_id),
            "affected_bookings": affected,
        }
        return self.commit(business, *days, answer=answer, id=cmd.resource_id)

    def marked_days(
        self, business: Business, resource_id: UUID, time_off_id: UUID, entry: dict[str, Any]
    ) -> list[DayAllocation]:
        """The allocations of the days the time off covers from now to the booking horizon,
        each marked (opened where missing), so racing bookings conflict on them."""
        now = self.clock()
        horizon = now + timedelta(days=business.booking_horizon_days() + 1)
        lo, hi = max(entry["start"], now), min(entry["end"], horizon)
        days = []
        for day in allocation_days(lo, hi) if lo < hi else []:
            allocation_id = DayAllocation.create_id(business.id, day)
            found = self.load_or_none(DayAllocation, allocation_id)
            allocation = found or DayAllocation(business_id=business.id, day=day)
            allocation.mark_time_off(resource_id, time_off_id)
            days.append(allocation)
        return days

    @handles(RemoveTimeOff)
    @retry_on_conflict
    def remove_time_off(self, cmd: RemoveTimeOff) -> Done:
        business = self.resource_business(cmd.actor, cmd.resource_id)
        business.remove_time_off(cmd.resource_id, cmd.time_off_id)
        return self.resource_done(business, cmd.resource_id)


def _holds_during(o: Occupancy, resource_id: UUID, entry: dict[str, Any]) -> bool:
    return (
        resource_id in o.resources
        and o.occupied_start < entry["end"]
        and entry["start"] < o.occupied_end
    )
