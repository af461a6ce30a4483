"""Command handlers for bookings: place, reschedule, cancel and move through the lifecycle.

Each placement or move saves the Booking together with every DayAllocation its
occupied time touches, in one atomic `save`; a concurrent writer makes that save
fail on an aggregate version, and the whole attempt is re-run on fresh state.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID, uuid4

from commands.base import STAFF_ROLES, Handlers, deduplicate, require_role
from commands.messages import (
    CancelBooking,
    ChangeBookingStatus,
    Done,
    PlaceBooking,
    RescheduleBooking,
)
from domain.actor import Actor, Role
from domain.allocation import DayAllocation, allocate, held_services_to_look_up
from domain.booking import ALLOWED_FROM, Booking, BookingStatus
from domain.business import Business
from domain.errors import (
    BookingNotFound,
    BusinessNotFound,
    InvalidInput,
    NotYourBooking,
    NotYourBusiness,
    RoleNotAllowed,
    ServiceNotFound,
)
from domain.service import Service
from domain.slots import ServiceShape, allocation_days, occupancy_for, require_offered
from domain.values import require_aware

BOOKERS = frozenset({Role.CUSTOMER, Role.OWNER, Role.ADMIN})


class BookingHandlers(Handlers):
    def allocations(self, business_id: UUID, start: datetime, end: datetime) -> list[DayAllocation]:
        """The allocations of every UTC day [start, end) touches, opened where missing."""
        found = []
        for day in allocation_days(start, end):
            allocation_id = DayAllocation.create_id(business_id, day)
            existing = self.load_or_none(DayAllocation, allocation_id)
            found.append(existing or DayAllocation(business_id=business_id, day=day))
        return found

    def seats_of(self, days: list[DayAllocation], shape: ServiceShape) -> dict[UUID, int]:
        """Seats of the other services whose bookings share a start in `days`."""
        others = (self.load_or_none(Service, s) for s in held_services_to_look_up(days, shape))
        return {other.id: other.seats for other in others if other is not None}

    def is_staff_of(self, actor: Actor, business: Business) -> bool:
        return actor.is_admin or (actor.role is Role.OWNER and business.owner_id == actor.id)

    def place_booking(self, cmd: PlaceBooking) -> Done:
        require_role(cmd.actor, BOOKERS)
        start = require_aware(cmd.start, "start")
        booking_id = uuid4()

        def attempt() -> Done:
            service = self.load(Service, cmd.service_id, ServiceNotFound)
            service.require_active()
            business = self.load(Business, service.business_id, BusinessNotFound)
            customer_id = self.customer_for(cmd, business)
            calendar, shape = business.calendar(), service.shape()
            require_offered(calendar, shape, start, self.clock())
            wanted = occupancy_for(shape, booking_id, start)
            days = self.allocations(business.id, wanted.occupied_start, wanted.occupied_end)
            allocate(days, business.capacity, shape, booking_id, start, self.seats_of(days, shape))
            status = (
                BookingStatus.PENDING
                if business.policy["requires_confirmation"]
                else BookingStatus.CONFIRMED
            )
            booking = Booking(
                id=booking_id,
                business_id=business.id,
                service_id=service.id,
                customer_id=customer_id,
                placed_by=cmd.actor.id,
                start=wanted.start,
                end=wanted.end,
                occupied_start=wanted.occupied_start,
                occupied_end=wanted.occupied_end,
                timezone=business.timezone,
                service_name=service.name,
                price_amount=service.price_amount,
                currency=service.currency,
                notes=cmd.notes,
                status=status,
            )
            return self.commit(booking, *days)

        return self.retrying(attempt)

    def customer_for(self, cmd: PlaceBooking, business: Business) -> str:
        if cmd.actor.role is Role.CUSTOMER:
            if cmd.customer_id not in (None, cmd.actor.id):
                raise RoleNotAllowed("customers book only for themselves; omit customer_id")
            return cmd.actor.id
        if not self.is_staff_of(cmd.actor, business):
            raise NotYourBusiness("owners book on behalf of customers only at their own business")
        if not cmd.customer_id:
            raise InvalidInput("customer_id is required when staff books", field="customer_id")
        return cmd.customer_id

    def booking_for(
        self, actor: Actor, booking_id: UUID, *, staff_only: bool
    ) -> tuple[Booking, Business, bool]:
        """The booking, its business and whether the actor acts as staff."""
        booking = self.load(Booking, booking_id, BookingNotFound)
        business = self.load(Business, booking.business_id, BusinessNotFound)
        staff = self.is_staff_of(actor, business)
        if staff:
            return booking, business, True
        if actor.role is Role.OWNER:
            raise NotYourBusiness("this booking is at a business you do not own")
        if staff_only:
            require_role(actor, STAFF_ROLES)
        if actor.role is not Role.CUSTOMER or booking.customer_id != actor.id:
            raise NotYourBooking("you may only act on your own bookings")
        return booking, business, False

    def reschedule_booking(self, cmd: RescheduleBooking) -> Done:
        start = require_aware(cmd.start, "start")

        def attempt() -> Done:
            booking, business, staff = self.booking_for(cmd.actor, cmd.booking_id, staff_only=False)
            booking._require("reschedule")
            service = self.load(Service, booking.service_id, ServiceNotFound)
            service.require_active()
            calendar, shape = business.calendar(), service.shape()
            require_offered(calendar, shape, start, self.clock())
            old = self.allocations(business.id, booking.occupied_start, booking.occupied_end)
            for allocation in old:
                allocation.release(booking.id)
            wanted = occupancy_for(shape, booking.id, start)
            fresh = self.allocations(business.id, wanted.occupied_start, wanted.occupied_end)
            by_id = {a.id: a for a in old}
            days = [by_id.get(a.id, a) for a in fresh]  # a shared day is one aggregate
            allocate(days, business.capacity, shape, booking.id, start, self.seats_of(days, shape))
            booking.reschedule(
                cmd.actor.id,
                wanted.start,
                wanted.end,
                wanted.occupied_start,
                wanted.occupied_end,
                self.clock(),
                self.deadline(business),
                staff=staff,
            )
            return self.commit(booking, *deduplicate([*old, *days]))

        return self.retrying(attempt)

    def cancel_booking(self, cmd: CancelBooking) -> Done:
        def attempt() -> Done:
            booking, business, staff = self.booking_for(cmd.actor, cmd.booking_id, staff_only=False)
            booking.cancel(
                cmd.actor.id, cmd.reason, self.clock(), self.deadline(business), staff=staff
            )
            days = self.allocations(business.id, booking.occupied_start, booking.occupied_end)
            for allocation in days:
                allocation.release(booking.id)
            return self.commit(booking, *days)

        return self.retrying(attempt)

    def change_booking_status(self, cmd: ChangeBookingStatus) -> Done:
        if cmd.action not in ALLOWED_FROM or cmd.action in ("cancel", "reschedule"):
            raise InvalidInput(f"unknown booking action {cmd.action!r}", field="action")

        def attempt() -> Done:
            booking, _, _ = self.booking_for(cmd.actor, cmd.booking_id, staff_only=True)
            if cmd.action == "mark_no_show":
                booking.mark_no_show(cmd.actor.id, self.clock())
            else:
                getattr(booking, cmd.action)(cmd.actor.id)
            return self.commit(booking)

        return self.retrying(attempt)

    @staticmethod
    def deadline(business: Business) -> timedelta:
        return timedelta(hours=int(business.policy["cancellation_deadline_hours"]))
