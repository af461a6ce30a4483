"""Command handlers for businesses: register, profile, hours, closures, policy.

A change that can leave bookings outside opening time (hours, a closure, the
time zone) or over capacity is refused with the bookings it would affect,
unless the owner asks to keep them (`keep_bookings`); either way the answer
lists them.
"""

from __future__ import annotations

from typing import Any

from commands.answers import closure_view, summary
from commands.base import Handlers, handles, retry_on_conflict
from commands.held import HeldBookings, views
from commands.messages import (
    AddClosure,
    ChangePolicy,
    ChangeProfile,
    Done,
    RegisterBusiness,
    RemoveClosure,
    SetHours,
    SetPolicy,
)
from domain.access import STAFF_ROLES, require_role
from domain.affected import left_outside, over_capacity
from domain.business import Business, SlugIndex
from domain.errors import BookingsAffected, DuplicateSlug, InvalidInput
from domain.slots import Calendar, Occupancy
from domain.values import BookingPolicy

OUTSIDE = "it would leave {n} booking(s) outside opening time"
CROWDED = "it would leave {n} booking(s) over the new capacity"
KEEP = '; send "keep_bookings": true to change it anyway and keep them'
KEEP_FIELD = "keep_bookings"


class BusinessHandlers(HeldBookings, Handlers):
    @handles(RegisterBusiness)
    @retry_on_conflict
    def register_business(self, cmd: RegisterBusiness) -> Done:
        require_role(cmd.actor, STAFF_ROLES)
        claim_id = SlugIndex.create_id(cmd.slug)
        if self.load_or_none(SlugIndex, claim_id, fresh=True) is not None:
            raise DuplicateSlug(f"the slug {cmd.slug!r} is taken", field="slug")
        business = Business.register(
            cmd.actor.id, cmd.name, cmd.slug, cmd.timezone, cmd.capacity, id=cmd.target()
        )
        business.set_address(cmd.address)
        return self.commit(business, SlugIndex(slug=cmd.slug, business_id=business.id))

    @handles(ChangeProfile, answer="profile_answer")
    @retry_on_conflict
    def change_profile(self, cmd: ChangeProfile) -> Done:
        business = self.owned_business(cmd.actor, cmd.business_id)
        before, capacity = business.calendar(), business.capacity
        if cmd.address is not None:  # first: the answer again reads the version before the last
            business.set_address(cmd.address)
        if (cmd.name, cmd.timezone, cmd.capacity) != (None, None, None):
            business.change_profile(cmd.name, cmd.timezone, cmd.capacity)
        outside, crowded = self.profile_effects(business, before, capacity)
        if crowded and not cmd.keep_bookings:
            raise BookingsAffected(
                CROWDED.format(n=len(crowded)) + KEEP, _union(crowded, outside), field=KEEP_FIELD
            )
        self.refuse_unless_kept(outside, cmd.keep_bookings)
        affected = _union(outside, crowded)
        return self.commit(business, answer={**summary(business), "affected_bookings": affected})

    def profile_answer(self, cmd: ChangeProfile, business: Business) -> dict[str, Any]:
        before = self.business_at(business, business.version - 1)
        outside, crowded = self.profile_effects(business, before.calendar(), before.capacity)
        return {**summary(business), "affected_bookings": _union(outside, crowded)}

    def profile_effects(
        self, business: Business, before: Calendar, capacity_before: int
    ) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        """Bookings a new time zone leaves outside opening time; bookings over less capacity."""
        outside = self.moved_out(business, before)
        crowded = self.crowded(business) if business.capacity < capacity_before else []
        return outside, crowded

    @handles(SetHours, answer="hours_answer")
    @retry_on_conflict
    def set_hours(self, cmd: SetHours) -> Done:
        business = self.owned_business(cmd.actor, cmd.business_id)
        before = business.calendar()
        business.set_hours(cmd.weekly)
        affected = self.moved_out(business, before)
        self.refuse_unless_kept(affected, cmd.keep_bookings)
        return self.commit(business, answer=self.hours_fields(business, affected))

    def hours_answer(self, cmd: SetHours, business: Business) -> dict[str, Any]:
        before = self.business_at(business, business.version - 1)
        return self.hours_fields(business, self.moved_out(business, before.calendar()))

    @staticmethod
    def hours_fields(business: Business, affected: list[dict[str, object]]) -> dict[str, Any]:
        return {**summary(business), "weekly": business.weekly, "affected_bookings": affected}

    @handles(AddClosure, answer="closure_answer")
    @retry_on_conflict
    def add_closure(self, cmd: AddClosure) -> Done:
        business = self.owned_business(cmd.actor, cmd.business_id)
        before = business.calendar()
        business.add_closure(cmd.closure_id(), cmd.start, cmd.end, cmd.reason)
        affected = self.closed_over(business, before, cmd)
        self.refuse_unless_kept(affected, cmd.keep_bookings)
        return self.commit(business, answer=self.closure_fields(business, cmd, affected))

    def closure_answer(self, cmd: AddClosure, business: Business) -> dict[str, Any]:
        before = self.business_at(business, business.version - 1)
        affected = self.closed_over(business, before.calendar(), cmd)
        return self.closure_fields(business, cmd, affected)

    def closed_over(self, business: Business, before: Calendar, cmd: AddClosure) -> list[Any]:
        closure = business.closure(cmd.closure_id())
        held = self.held_ahead(business, closure["start"], closure["end"])
        return self.moved_bookings(before, business.calendar(), held)

    @staticmethod
    def closure_fields(
        business: Business, cmd: AddClosure, affected: list[dict[str, object]]
    ) -> dict[str, Any]:
        closure = closure_view(business.closure(cmd.closure_id()))
        return {**closure, "affected_bookings": affected}

    @handles(RemoveClosure, answer="removal_answer")
    @retry_on_conflict
    def remove_closure(self, cmd: RemoveClosure) -> Done:
        business = self.owned_business(cmd.actor, cmd.business_id)
        business.remove_closure(cmd.closure_id)
        return self.commit(business, answer=self.removal_answer(cmd, business))

    @staticmethod
    def removal_answer(cmd: RemoveClosure, business: Business) -> dict[str, Any]:
        return {"closure_id": str(cmd.closure_id), "closures_left": len(business.closures)}

    @handles(SetPolicy, answer="policy_answer")
    @retry_on_conflict
    def set_policy(self, cmd: SetPolicy) -> Done:
        business = self.owned_business(cmd.actor, cmd.business_id)
        business.set_policy(cmd.policy)
        return self.commit(business, answer=self.policy_answer(cmd, business))

    @handles(ChangePolicy, answer="policy_answer")
    @retry_on_conflict
    def change_policy(self, cmd: ChangePolicy) -> Done:
        unknown = set(cmd.changes) - set(business_policy_fields())
        if unknown:
            name = sorted(unknown)[0]
            raise InvalidInput(f"unknown policy field {name}", field=name)
        business = self.owned_business(cmd.actor, cmd.business_id)
        business.set_policy(BookingPolicy(**{**business.policy, **cmd.changes}))
        return self.commit(business, answer=self.policy_answer(cmd, business))

    @staticmethod
    def policy_answer(cmd: SetPolicy | ChangePolicy, business: Business) -> dict[str, Any]:
        return {**summary(business), "policy": business.policy}

    # -- the bookings a change affects -------------------------------------------------

    def business_at(self, business: Business, version: int) -> Business:
        found: Business = self.repository.get(business.id, version=version)
        return found

    def moved_out(self, business: Business, before: Calendar) -> list[dict[str, object]]:
        """Bookings ahead that `business`'s calendar now leaves outside opening time."""
        after = business.calendar()
        if after.timezone == before.timezone and _only_widens(before, after):
            return []  # nothing open before is closed now: no allocation need be read
        return self.moved_bookings(before, after, self.held_ahead(business))

    def moved_bookings(
        self, before: Calendar, after: Calendar, held: list[Occupancy]
    ) -> list[dict[str, object]]:
        return views(self.still_to_serve(left_outside(before, after, held)))

    def crowded(self, business: Business) -> list[dict[str, object]]:
        """Bookings ahead in an instant where more occurrences run than the capacity."""
        held = self.held_ahead(business)
        crowding = over_capacity(business.capacity, held, self.seats_of_held(held))
        return views(self.still_to_serve(crowding))

    @staticmethod
    def refuse_unless_kept(affected: list[dict[str, object]], keep: bool) -> None:
        if affected and not keep:
            detail = OUTSIDE.format(n=len(affected)) + KEEP
            raise BookingsAffected(detail, affected, field=KEEP_FIELD)


def _union(first: list[dict[str, object]], second: list[dict[str, object]]) -> list[Any]:
    return [*first, *(b for b in second if b not in first)]


def business_policy_fields() -> tuple[str, ...]:
    return tuple(BookingPolicy.__dataclass_fields__)


def _only_widens(before: Calendar, after: Calendar) -> bool:
    """Is every minute open under `before` open under `after`, and no closure added?"""
    minutes_after = {(w.day, m) for w in after.weekly for m in range(w.start, w.end)}
    widened = all((w.day, m) in minutes_after for w in before.weekly for m in range(w.start, w.end))
    return widened and set(after.closures) <= set(before.closures)
