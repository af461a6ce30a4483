"""Command handlers for bookings: place, reschedule, cancel and move through the lifecycle.

Each placement or move saves the Booking together with every DayAllocation its
occupied time touches, in one atomic `save`; a concurrent writer makes that save
fail on an aggregate version, and the whole attempt is re-run on fresh state.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from uuid import UUID

from commands.answers import booking_answer
from commands.base import deduplicate, handles, retry_on_conflict
from commands.messages import (
    BookingCommand,
    BookingRequest,
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
from domain.allocation import (
    DayAllocation,
    allocate,
    allocate_resources,
    held_services_to_look_up,
)
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
from domain.line import Line, WaitedService, Waiting, in_line
from domain.payable import to_minor
from domain.payment import PROVIDER
from domain.personal import Sealed, personal_document
from domain.resources import (
    Requirement,
    ResourceCalendar,
    bookings_per_resource,
    choose,
    free_groups,
    holds_of,
)
from domain.service import Service
from domain.slots import (
    Occupancy,
    ServiceShape,
    allocation_days,
    occupancy_for,
    require_offered,
)
from domain.values import require_aware

DAY = timedelta(days=1)
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
        service = self.load(Service, cmd.service_id, ServiceNotFound, read_only=True)
        service.require_active()
        business = self.load(Business, service.business_id, BusinessNotFound, read_only=True)
        customer_id = self.customer_for(cmd, business)
        pool: dict[UUID, DayAllocation] = {}
        booking = self.place_one(cmd, business, service, customer_id, start, cmd.target(), pool)
        return self.commit(booking, *pool.values(), answer=booking_answer(booking))

    def place_one(
        self,
        cmd: BookingRequest,
        business: Business,
        service: Service,
        customer_id: str,
        start: datetime,
        booking_id: UUID,
        pool: dict[UUID, DayAllocation],
        series_id: UUID | None = None,
    ) -> Booking:
        """Check and hold one booking in the allocations of `pool` (filled as needed)."""
        calendar, shape = business.calendar(), service.shape()
        require_offered(calendar, shape, start, self.clock())
        wanted = occupancy_for(shape, booking_id, start)
        days = self.pooled(pool, business.id, wanted.occupied_start, wanted.occupied_end)
        resources = self.hold(business, service, days, booking_id, start, cmd.resource_id)
        sealed = self.sealed(customer_id, cmd)
        return self.new_booking(
            cmd.actor.id, business, service, customer_id, wanted, resources, sealed, series_id
        )

    def new_booking(
        self,
        placed_by: str,
        business: Business,
        service: Service,
        customer_id: str,
        wanted: Occupancy,
        resources: list[dict[str, str]],
        personal_data: Sealed | None,
        series_id: UUID | None = None,
    ) -> Booking:
        """The Booking of a hold just taken: its first status, and its payment hold if paid."""
        booking = Booking(
            id=wanted.booking_id,
            business_id=business.id,
            service_id=service.id,
            customer_id=customer_id,
            placed_by=placed_by,
            start=wanted.start,
            end=wanted.end,
            occupied_start=wanted.occupied_start,
            occupied_end=wanted.occupied_end,
            timezone=business.timezone,
            service_name=service.name,
            price_amount=service.price_amount,
            currency=service.currency,
            personal_data=personal_data,
            legacy_notes="",
            status=self.first_status(business, service),
            resources=resources,
            series_id=series_id,
        )
        if booking.status is BookingStatus.PENDING_PAYMENT:
            if not self.takes_payments:  # no one here could take the money or end the hold
                raise PaymentsNotConfigured(
                    "this business takes payment online and this server has no Stripe key"
                )
            to_minor(service.price_amount, service.currency)  # refuse what Stripe cannot charge
            booking.request_payment(PROVIDER, self.hold_until(business, wanted.start))
        return booking

    def pooled(
        self, pool: dict[UUID, DayAllocation], business_id: UUID, lo: datetime, hi: datetime
    ) -> list[DayAllocation]:
        """The allocations of [lo, hi), one aggregate per day however often it is asked for."""
        days = []
        for day in allocation_days(lo, hi):
            allocation_id = DayAllocation.create_id(business_id, day)
            if allocation_id not in pool:
                midnight = datetime.combine(day, time(), UTC)
                (pool[allocation_id],) = self.allocations(business_id, midnight, midnight + DAY)
            days.append(pool[allocation_id])
        return days

    def hold(
        self,
        business: Business,
        service: Service,
        days: list[DayAllocation],
        booking_id: UUID,
        start: datetime,
        asked: UUID | None,
        keep: list[dict[str, str]] | None = None,
        reserved: list[Occupancy] | None = None,
        replacing: UUID | None = None,
    ) -> list[dict[str, str]]:
        """Hold the booking in `days`: a place in the capacity pool, or the resources it needs
        (the ones asked for or kept when free, else the least booked that day, then by id).
        The seats the waitlist's line takes first (`reserved`, by default worked out from
        `days`) are not the booking's; `replacing`: the offer whose hold it takes over."""
        shape, requirement = service.shape(), service.requirement()
        if reserved is None:
            reserved = self.reservations(business, days)
        if requirement is None:
            if asked is not None:
                raise InvalidInput("this service books no resources", field="resource_id")
            seats_of = self.seats_of(days, shape)
            allocate(
                days,
                business.capacity,
                shape,
                booking_id,
                start,
                {**seats_of, **self.seats_of_reserved(reserved, shape)},
                reserved,
                replacing,
            )
            return []
        calendars = business.resource_calendars()
        require_resource_choice(requirement, calendars, asked)
        tz, chosen = business.calendar().timezone, list[ResourceCalendar]()
        wanted = occupancy_for(shape, booking_id, start)

        def choose_from(held: list[Occupancy]) -> tuple[UUID, ...]:
            lo, hi = wanted.occupied_start, wanted.occupied_end
            groups = free_groups(requirement, calendars, tz, lo, hi, holds_of(held), asked)
            counts = bookings_per_resource(held, tz, start.astimezone(tz).date())
            counts.update((UUID(r["id"]), -1) for r in keep or ())  # keep what is free
            chosen.extend(choose(groups, counts))
            return tuple(r.id for r in chosen)

        allocate_resources(days, shape, booking_id, start, choose_from, reserved, replacing)
        return [r.view() for r in chosen]

    def seats_of_reserved(self, reserved: list[Occupancy], shape: ServiceShape) -> dict[UUID, int]:
        """Seats of the services the line reserved for (they group like bookings do)."""
        wanted = {o.service_id for o in reserved if not o.resources} - {shape.service_id}
        others = (self.load_or_none(Service, s, read_only=True) for s in wanted)
        return {other.id: other.seats for other in others if other is not None}

    def reservations(
        self, business: Business, days: list[DayAllocation], also: Service | None = None
    ) -> list[Occupancy]:
        """The seats the line of `days` takes first (none, without reading anything, when
        nobody waits there)."""
        if not any(a.waiting for a in days):
            return []
        held = held_in(days)
        line = self.line_for(business, days, held, also)
        return line.reserve(in_line(waiting_in(days), held_ids(days)), held)

    def line_for(
        self,
        business: Business,
        days: list[DayAllocation],
        held: list[Occupancy],
        also: Service | None = None,
    ) -> Line:
        """What decides who in the line of `days` fits: the business, the services waited for
        and held there (their seats and requirements), and now."""
        wanted = {w.service_id for w in waiting_in(days)} | {o.service_id for o in held}
        services = {also.id: also} if also is not None else {}
        for service_id in wanted - set(services):
            found = self.load_or_none(Service, service_id, read_only=True)
            if found is not None:
                services[service_id] = found
        waited = {
            s.id: WaitedService(s.seats, s.requirement(), s.active) for s in services.values()
        }
        seats = {s.id: s.seats for s in services.values()}
        calendars = business.resource_calendars()
        return Line(business.calendar(), calendars, waited, seats, self.clock())

    def sealed(self, customer_id: str, cmd: BookingRequest) -> Sealed | None:
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

    def customer_for(self, cmd: BookingRequest, business: Business) -> str:
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
        wanted = occupancy_for(shape, booking.id, start)
        fresh = self.allocations(business.id, wanted.occupied_start, wanted.occupied_end)
        by_id = {a.id: a for a in old}
        days = [by_id.get(a.id, a) for a in fresh]  # a shared day is one aggregate
        # The line's claims are worked out while the booking still holds its old time: a
        # move competes with nobody for the seat it gives up.
        reserved = self.reservations(business, deduplicate([*old, *days]))
        for allocation in old:
            allocation.release(booking.id)
        kept = booking.held_resources()
        resources = self.hold(
            business, service, days, booking.id, start, cmd.resource_id, kept, reserved
        )
        booking.reschedule(
            cmd.actor.id,
            wanted.start,
            wanted.end,
            wanted.occupied_start,
            wanted.occupied_end,
            self.clock(),
            self.deadline(business),
            staff=staff,
            resources=resources,
        )
        return self.commit(booking, *deduplicate([*old, *days]), answer=booking_answer(booking))

    @handles(CancelBooking)
    @retry_on_conflict
    def cancel_booking(self, cmd: CancelBooking) -> Done:
        booking, business, staff = self.booking_for(cmd.actor, cmd.booking_id, staff_only=False)
        reason = self.sealed_reason(booking, cmd.reason)
        booking.cancel(cmd.actor.id, reason, self.clock(), self.deadline(business), staff=staff)
        days = self.allocations(business.id, booking.occupied_start, booking.occupied_end)
        for allocation in days:
            allocation.release(booking.id)
        return self.commit(booking, *days)

    def sealed_reason(self, booking: Booking, reason: str) -> Sealed | None:
        """A cancellation's free-text reason is the customer's personal data: sealed."""
        return self.sealer.seal(booking.customer_id, {"reason": reason}) if reason else None

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


def require_resource_choice(
    requirement: Requirement, calendars: list[ResourceCalendar], asked: UUID | None
) -> None:
    """InvalidInput naming `resource_id` unless the service can be booked with that one."""
    if asked is not None and asked not in {r.id for r in requirement.groups(calendars)[0]}:
        raise InvalidInput("the service cannot be booked with that resource", field="resource_id")


def held_in(days: list[DayAllocation]) -> list[Occupancy]:
    """Every hold (bookings and offers) in `days`, once each."""
    return list({o.booking_id: o for a in days for o in a.held.values()}.values())


def held_ids(days: list[DayAllocation]) -> set[UUID]:
    return {booking_id for a in days for booking_id in a.held}


def waiting_in(days: list[DayAllocation]) -> list[Waiting]:
    """Every entry in line in `days` (offered or not), once each."""
    return list({w.entry_id: w for a in days for w in a.waiting.values()}.values())
