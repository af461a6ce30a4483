"""Command handlers for bookings: place, reschedule, cancel and move through the lifecycle.

Each placement or move saves the Booking together with every DayAllocation its
occupied time touches, in one atomic `save`; a concurrent writer makes that save
fail on an aggregate version, and the whole attempt is re-run on fresh state.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from commands.base import deduplicate, handles, retry_on_conflict
from commands.messages import (
    BookingCommand,
    CancelBooking,
    CheckInBooking,
    CompleteBooking,
    ConfirmBooking,
    Done,
    MarkNoShow,
    PlaceBooking,
    RescheduleBooking,
)
from commands.personal import PersonalDataHandlers
from domain.access import STAFF_ROLES, is_staff, require_role
from domain.actor import Actor, Role
from domain.allocation import DayAllocation, allocate, held_services_to_look_up
from domain.booking import Booking, BookingStatus
from domain.business import Business
from domain.errors import (
    BookingNotFound,
    BusinessNotFound,
    InvalidInput,
    NotYourBooking,
    NotYourBusiness,
    PaymentsNotConfigured,
    RoleNotAllowed,
    ServiceNotFound,
)
from domain.payable import to_minor
from domain.payment import PROVIDER
from domain.personal import Sealed, personal_document
from domain.service import Service
from domain.slots import ServiceShape, allocation_days, occupancy_for, require_offered
from domain.values import require_aware

BOOKERS = frozenset({Role.CUSTOMER, Role.OWNER, Role.ADMIN, Role.SYSTEM})


class BookingHandlers(PersonalDataHandlers):
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
        wanted = held_services_to_look_up(days, shape)
        others = (self.load_or_none(Service, s, read_only=True) for s in wanted)
        return {other.id: other.seats for other in others if other is not None}

    @handles(PlaceBooking)
    @retry_on_conflict
    def place_booking(self, cmd: PlaceBooking) -> Done:
        require_role(cmd.actor, BOOKERS)
        start = require_aware(cmd.start, "start")
        booking_id = cmd.target()
        service = self.load(Service, cmd.service_id, ServiceNotFound, read_only=True)
        service.require_active()
        business = self.load(Business, service.business_id, BusinessNotFound, read_only=True)
        customer_id = self.customer_for(cmd, business)
        calendar, shape = business.calendar(), service.shape()
        require_offered(calendar, shape, start, self.clock())
        wanted = occupancy_for(shape, booking_id, start)
        days = self.allocations(business.id, wanted.occupied_start, wanted.occupied_end)
        allocate(days, business.capacity, shape, booking_id, start, self.seats_of(days, shape))
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
            personal_data=self.sealed(customer_id, cmd),
            legacy_notes="",
            status=self.first_status(business, service),
        )
        if booking.status is BookingStatus.PENDING_PAYMENT:
            if not self.takes_payments:  # no one here could take the money or end the hold
                raise PaymentsNotConfigured(
                    "this business takes payment online and this server has no Stripe key"
                )
            to_minor(service.price_amount, service.currency)  # refuse what Stripe cannot charge
            booking.request_payment(PROVIDER, self.hold_until(business, wanted.start))
        return self.commit(booking, *days)

    def sealed(self, customer_id: str, cmd: PlaceBooking) -> Sealed | None:
        """The contact and notes as ciphertext under the customer's key: no event holds them."""
        document = personal_document(cmd.contact, cmd.notes)
        return None if document is None else self.sealer.seal(customer_id, document)

    @staticmethod
    def first_status(business: Business, service: Service) -> BookingStatus:
        """Waiting for payment (a priced service, payments on), for the business, or confirmed."""
        if business.payment_settings().enabled and service.price_amount > 0:
            return BookingStatus.PENDING_PAYMENT
        if business.policy["requires_confirmation"]:
            return BookingStatus.PENDING
        return BookingStatus.CONFIRMED

    def hold_until(self, business: Business, start: datetime) -> datetime:
        """A payment hold lasts `hold_minutes`, and never past the appointment's start."""
        hold = timedelta(minutes=business.payment_settings().hold_minutes)
        return min((self.clock() + hold).replace(microsecond=0), start)

    def customer_for(self, cmd: PlaceBooking, business: Business) -> str:
        if cmd.actor.role is Role.CUSTOMER:
            if cmd.customer_id not in (None, cmd.actor.id):
                raise RoleNotAllowed("customers book only for themselves; omit customer_id")
            return cmd.actor.id
        if not is_staff(cmd.actor, business.owner_id):
            raise NotYourBusiness("owners book on behalf of customers only at their own business")
        if not cmd.customer_id:
            raise InvalidInput("customer_id is required when staff books", field="customer_id")
        return cmd.customer_id

    def booking_for(
        self, actor: Actor, booking_id: UUID, *, staff_only: bool
    ) -> tuple[Booking, Business, bool]:
        """The booking, its business and whether the actor acts as staff."""
        booking = self.load(Booking, booking_id, BookingNotFound)
        business = self.load(Business, booking.business_id, BusinessNotFound, read_only=True)
        if is_staff(actor, business.owner_id):
            return booking, business, True
        if actor.role is Role.OWNER:
            raise NotYourBusiness("this booking is at a business you do not own")
        if staff_only:
            require_role(actor, STAFF_ROLES)
        if actor.role is not Role.CUSTOMER or booking.customer_id != actor.id:
            raise NotYourBooking("you may only act on your own bookings")
        return booking, business, False

    @handles(RescheduleBooking)
    @retry_on_conflict
    def reschedule_booking(self, cmd: RescheduleBooking) -> Done:
        start = require_aware(cmd.start, "start")
        booking, business, staff = self.booking_for(cmd.actor, cmd.booking_id, staff_only=False)
        booking._require("reschedule")
        service = self.load(Service, booking.service_id, ServiceNotFound, read_only=True)
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

    @handles(CancelBooking)
    @retry_on_conflict
    def cancel_booking(self, cmd: CancelBooking) -> Done:
        booking, business, staff = self.booking_for(cmd.actor, cmd.booking_id, staff_only=False)
        reason = (
            self.sealer.seal(booking.customer_id, {"reason": cmd.reason}) if cmd.reason else None
        )
        booking.cancel(cmd.actor.id, reason, self.clock(), self.deadline(business), staff=staff)
        days = self.allocations(business.id, booking.occupied_start, booking.occupied_end)
        for allocation in days:
            allocation.release(booking.id)
        return self.commit(booking, *days)

    def staff_booking(self, cmd: BookingCommand) -> Booking:
        booking, _, _ = self.booking_for(cmd.actor, cmd.booking_id, staff_only=True)
        return booking

    @handles(ConfirmBooking)
    @retry_on_conflict
    def confirm_booking(self, cmd: ConfirmBooking) -> Done:
        booking = self.staff_booking(cmd)
        booking.confirm(cmd.actor.id)
        return self.commit(booking)

    @handles(CheckInBooking)
    @retry_on_conflict
    def check_in_booking(self, cmd: CheckInBooking) -> Done:
        booking = self.staff_booking(cmd)
        booking.check_in(cmd.actor.id)
        return self.commit(booking)

    @handles(CompleteBooking)
    @retry_on_conflict
    def complete_booking(self, cmd: CompleteBooking) -> Done:
        booking = self.staff_booking(cmd)
        booking.complete(cmd.actor.id)
        return self.commit(booking)

    @handles(MarkNoShow)
    @retry_on_conflict
    def mark_no_show(self, cmd: MarkNoShow) -> Done:
        booking = self.staff_booking(cmd)
        booking.mark_no_show(cmd.actor.id, self.clock())
        return self.commit(booking)

    @staticmethod
    def deadline(business: Business) -> timedelta:
        return timedelta(hours=int(business.policy["cancellation_deadline_hours"]))
