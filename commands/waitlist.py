"""Command handlers for the waitlist: join a full start, get offered a freed seat, accept it.

The line lives in the DayAllocations (`domain.line`), so every decision about a
seat — a booking, a join, an offer, an acceptance — is taken on the aggregates
that hold the seats and saved atomically with them: an offer is a hold like a
booking's, and accepting turns the hold into the booking in one save.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from commands.answers import booking_answer, entry_answer
from commands.base import handles, retry_on_conflict
from commands.booking import (
    BOOKERS,
    held_ids,
    held_in,
    require_resource_choice,
    waiting_in,
)
from commands.messages import Done
from commands.payments import PaymentHandlers
from commands.waitlist_messages import (
    AcceptOffer,
    DropEntry,
    ExpireOffer,
    JoinWaitlist,
    LeaveWaitlist,
    OfferFreedSeats,
)
from domain.access import is_staff, require_role
from domain.actor import Actor, Role
from domain.affected import is_open_for
from domain.allocation import DayAllocation
from domain.business import Business
from domain.errors import (
    AlreadyWaiting,
    BusinessNotFound,
    InvalidInput,
    NotYourBusiness,
    NotYourWaitlistEntry,
    ServiceNotFound,
    SlotAvailable,
    SlotUnavailable,
    WaitlistEntryNotFound,
)
from domain.line import Waiting, in_line
from domain.personal import personal_document
from domain.service import Service
from domain.slots import occupancy_for, require_offered
from domain.values import require_aware
from domain.waitlist import WaitlistEntry, booking_id_for

SYSTEM_ONLY = frozenset({Role.SYSTEM})


class WaitlistHandlers(PaymentHandlers):
    @handles(JoinWaitlist)
    @retry_on_conflict
    def join_waitlist(self, cmd: JoinWaitlist) -> Done:
        require_role(cmd.actor, BOOKERS)
        start = require_aware(cmd.start, "start")
        service = self.load(Service, cmd.service_id, ServiceNotFound, read_only=True)
        service.require_active()
        business = self.load(Business, service.business_id, BusinessNotFound, read_only=True)
        customer_id = self.customer_for(cmd, business)
        require_offered(business.calendar(), service.shape(), start, self.clock())
        requirement = service.requirement()
        if requirement is None and cmd.resource_id is not None:
            raise InvalidInput("this service books no resources", field="resource_id")
        if requirement is not None:
            require_resource_choice(requirement, business.resource_calendars(), cmd.resource_id)
        wanted = occupancy_for(service.shape(), cmd.target(), start)
        days = self.allocations(business.id, wanted.occupied_start, wanted.occupied_end)
        already = next(
            (
                w
                for w in waiting_in(days)
                if (w.customer_id, w.service_id, w.start) == (customer_id, service.id, start)
            ),
            None,
        )
        if already is not None:
            raise AlreadyWaiting(
                f"you are on the waitlist for {start.isoformat()} already", str(already.entry_id)
            )
        place = Waiting(
            cmd.target(),
            service.id,
            customer_id,
            wanted.start,
            wanted.end,
            wanted.occupied_start,
            wanted.occupied_end,
            cmd.resource_id,
            max(a.last_seq for a in days) + 1,
        )
        self.require_full(business, service, days, place)
        entry = self.new_entry(cmd, business, service, customer_id, place)
        for allocation in days:
            allocation.queue(
                place.entry_id,
                place.service_id,
                place.customer_id,
                place.start,
                place.end,
                place.occupied_start,
                place.occupied_end,
                place.resource_id,
                place.seq,
            )
        return self.commit(entry, *days, answer=entry_answer(entry))

    def require_full(
        self, business: Business, service: Service, days: list[DayAllocation], place: Waiting
    ) -> None:
        """SlotAvailable when a booking like `place` could be made now (the line counted)."""
        held = held_in(days)
        line = self.line_for(business, days, held, also=service)
        reserved = line.reserve(in_line(waiting_in(days), held_ids(days)), held)
        if line.fit(place, [*held, *reserved]) is not None:
            raise SlotAvailable(
                f"{place.start.isoformat()} can be booked now: book it instead of waiting",
                field="start",
            )

    def new_entry(
        self,
        cmd: JoinWaitlist,
        business: Business,
        service: Service,
        customer_id: str,
        place: Waiting,
    ) -> WaitlistEntry:
        document = personal_document(cmd.contact, "")
        sealed = None if document is None else self.sealer.seal(customer_id, document)
        return WaitlistEntry(
            id=place.entry_id,
            business_id=business.id,
            service_id=service.id,
            customer_id=customer_id,
            placed_by=cmd.actor.id,
            start=place.start,
            end=place.end,
            occupied_start=place.occupied_start,
            occupied_end=place.occupied_end,
            timezone=business.timezone,
            service_name=service.name,
            resource_id=place.resource_id,
            personal_data=sealed,
            seq=place.seq,
        )

    def entry_for(self, actor: Actor, entry_id: UUID) -> tuple[WaitlistEntry, Business]:
        """The entry and its business, for its customer or the business's staff."""
        entry = self.load(WaitlistEntry, entry_id, WaitlistEntryNotFound)
        business = self.load(Business, entry.business_id, BusinessNotFound, read_only=True)
        if is_staff(actor, business.owner_id):
            return entry, business
        if actor.role is Role.OWNER:
            raise NotYourBusiness("this waitlist entry is at a business you do not own")
        if actor.role is not Role.CUSTOMER or entry.customer_id != actor.id:
            raise NotYourWaitlistEntry("you may only act on your own waitlist entries")
        return entry, business

    def entry_days(self, entry: WaitlistEntry) -> list[DayAllocation]:
        return self.allocations(entry.business_id, entry.occupied_start, entry.occupied_end)

    def leave_line(self, entry: WaitlistEntry) -> Done:
        """Save the entry with its place (and its offer's hold, if any) gone from the line."""
        days = self.entry_days(entry)
        for allocation in days:
            allocation.unqueue(entry.id)
        return self.commit(entry, *days, answer=entry_answer(entry))

    @handles(LeaveWaitlist)
    @retry_on_conflict
    def leave_waitlist(self, cmd: LeaveWaitlist) -> Done:
        entry, _ = self.entry_for(cmd.actor, cmd.entry_id)
        entry.leave()
        return self.leave_line(entry)

    @handles(ExpireOffer)
    @retry_on_conflict
    def expire_offer(self, cmd: ExpireOffer) -> Done:
        require_role(cmd.actor, SYSTEM_ONLY)
        entry = self.load(WaitlistEntry, cmd.entry_id, WaitlistEntryNotFound)
        entry.expire_offer(self.clock())
        return self.leave_line(entry)

    @handles(DropEntry)
    @retry_on_conflict
    def drop_entry(self, cmd: DropEntry) -> Done:
        require_role(cmd.actor, SYSTEM_ONLY)
        entry = self.load(WaitlistEntry, cmd.entry_id, WaitlistEntryNotFound)
        entry.drop(self.clock())
        return self.leave_line(entry)

    @handles(AcceptOffer)
    @retry_on_conflict
    def accept_offer(self, cmd: AcceptOffer) -> Done:
        entry, business = self.entry_for(cmd.actor, cmd.entry_id)
        now = self.clock()
        entry.require_open_offer(now)
        service = self.load(Service, entry.service_id, ServiceNotFound, read_only=True)
        service.require_active()
        if not is_open_for(business.calendar(), entry.start, entry.end):
            raise SlotUnavailable(
                f"{entry.start.isoformat()} is no longer open (hours or a closure changed)",
                field="start",
            )
        booking_id = booking_id_for(entry.id)
        wanted = occupancy_for(service.shape(), booking_id, entry.start)
        pool: dict[UUID, DayAllocation] = {}
        line_days = self.pooled(pool, business.id, entry.occupied_start, entry.occupied_end)
        days = self.pooled(pool, business.id, wanted.occupied_start, wanted.occupied_end)
        # The line's claims are worked out with the offer's hold still in place: it is the
        # customer's, and the booking takes it over.
        reserved = self.reservations(business, list(pool.values()))
        resources = self.hold(
            business,
            service,
            days,
            booking_id,
            entry.start,
            entry.resource_id,
            keep=entry.offered_resources,
            reserved=reserved,
            replacing=entry.id,
        )
        booking = self.new_booking(
            cmd.actor.id,
            business,
            service,
            entry.customer_id,
            wanted,
            resources,
            entry.personal_data,
        )
        entry.accept(booking.id, now)
        for allocation in line_days:
            allocation.unqueue(entry.id)
        return self.commit(booking, entry, *pool.values(), answer=booking_answer(booking))

    @handles(OfferFreedSeats)
    @retry_on_conflict
    def offer_freed_seats(self, cmd: OfferFreedSeats) -> Done:
        require_role(cmd.actor, SYSTEM_ONLY)
        target = cmd.target()
        day = self.load_or_none(DayAllocation, target)
        if day is None or not in_line(day.waiting.values(), day.held):
            return Done(target, day.version if day else 0, 0, {"offered": []})
        business = self.load(Business, cmd.business_id, BusinessNotFound, read_only=True)
        pool = {day.id: day}
        for waiting in list(day.waiting.values()):  # every day its entries' seats touch
            self.pooled(pool, business.id, waiting.occupied_start, waiting.occupied_end)
        days = list(pool.values())
        held = held_in(days)
        line = self.line_for(business, days, held)
        offers = line.reserve(in_line(waiting_in(days), held_ids(days)), held)
        if not offers:
            return Done(target, day.version, 0, {"offered": []})
        names = {r.id: r.view() for r in business.resource_calendars()}
        minutes = timedelta(minutes=business.notification_settings().waitlist_offer_minutes)
        entries = []
        for offer in offers:
            entry = self.load(WaitlistEntry, offer.booking_id, WaitlistEntryNotFound)
            entry.offer(
                offer_end(self.clock(), minutes, entry.start),
                [names[r] for r in offer.resources if r in names],
            )
            for allocation in days:
                if entry.id in allocation.waiting:
                    allocation.hold_offer(entry.id, list(offer.resources))
            entries.append(entry)
        answer: dict[str, Any] = {"offered": [str(e.id) for e in entries]}
        return self.commit(day, *[a for a in days if a is not day], *entries, answer=answer)


def offer_end(now: datetime, minutes: timedelta, start: datetime) -> datetime:
    """An offer lasts `waitlist_offer_minutes`, and never past the appointment's start."""
    return min((now + minutes).replace(microsecond=0), start)
