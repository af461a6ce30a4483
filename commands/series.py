"""Command handlers for recurring series: place all occurrences at once, cancel the rest.

Every occurrence is checked and held like a single booking, in allocations
shared across the series (an occurrence touching a day another one touches
uses the same aggregate), and all of them are saved with the Series in one
atomic `save`: either the whole series (or what it did not skip) is written,
or nothing is.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from commands.base import handles, retry_on_conflict
from commands.booking import BOOKERS, BookingHandlers
from commands.messages import CancelSeries, Done, PlaceSeries
from domain.access import require_role
from domain.allocation import DayAllocation
from domain.booking import ALLOWED_FROM, Booking
from domain.business import Business
from domain.errors import (
    BusinessNotFound,
    DomainError,
    InvalidInput,
    NotYourBooking,
    SeriesNotFound,
    ServiceNotFound,
)
from domain.series import MODES, Series, occurrence_starts, repeat_step
from domain.service import Service
from domain.values import require_aware


class SeriesHandlers(BookingHandlers):
    @handles(PlaceSeries, answer="series_answer")
    @retry_on_conflict
    def place_series(self, cmd: PlaceSeries) -> Done:
        require_role(cmd.actor, BOOKERS)
        if cmd.mode not in MODES:
            raise InvalidInput(f"mode must be one of {', '.join(MODES)}", field="mode")
        step, first = repeat_step(cmd.every), require_aware(cmd.start, "start")
        service = self.load(Service, cmd.service_id, ServiceNotFound, read_only=True)
        service.require_active()
        business = self.load(Business, service.business_id, BusinessNotFound, read_only=True)
        customer_id = self.customer_for(cmd, business)
        starts = occurrence_starts(first, business.calendar().timezone, step, cmd.count)
        series_id, pool = cmd.target(), dict[UUID, DayAllocation]()
        bookings: list[Booking] = []
        skipped: list[dict[str, str]] = []
        for n, start in enumerate(starts):
            booking_id = cmd.context.new_id(f"booking-{n}")
            try:
                bookings.append(
                    self.place_one(
                        cmd, business, service, customer_id, start, booking_id, pool, series_id
                    )
                )
            except DomainError as refused:
                if cmd.mode == "all_or_nothing":
                    refused.detail = f"occurrence {start.isoformat()}: {refused.detail}"
                    refused.args = (refused.detail,)
                    raise
                skipped.append({"start": start.isoformat(), "reason": refused.code})
        series = Series(
            id=series_id,
            business_id=business.id,
            service_id=service.id,
            customer_id=customer_id,
            every=cmd.every,
            count=cmd.count,
            mode=cmd.mode,
            booking_ids=[b.id for b in bookings],
            skipped=skipped,
        )
        answer = series_fields(series, bookings)
        return self.commit(series, *bookings, *pool.values(), answer=answer)

    def series_answer(self, cmd: PlaceSeries, series: Series) -> dict[str, Any]:
        bookings: list[Booking] = [self.repository.get(b) for b in series.booking_ids]
        return series_fields(series, bookings)

    @handles(CancelSeries)
    @retry_on_conflict
    def cancel_series(self, cmd: CancelSeries) -> Done:
        series = self.load(Series, cmd.series_id, SeriesNotFound)
        lo = self.clock() if cmd.start_from is None else require_aware(cmd.start_from, "from")
        cancelled, pool = [], dict[UUID, DayAllocation]()
        for booking_id in series.booking_ids:
            try:
                booking, business, staff = self.booking_for(cmd.actor, booking_id, staff_only=False)
            except NotYourBooking:
                raise NotYourBooking("you may only cancel your own series") from None
            if booking.start < lo or booking.status not in ALLOWED_FROM["cancel"]:
                continue
            deadline = self.deadline(business)
            reason = self.sealed_reason(booking, cmd.reason)
            booking.cancel(cmd.actor.id, reason, self.clock(), deadline, staff=staff)
            days = self.pooled(pool, business.id, booking.occupied_start, booking.occupied_end)
            for allocation in days:
                allocation.release(booking.id)
            cancelled.append(booking)
        answer = {"series_id": str(series.id), "cancelled": [str(b.id) for b in cancelled]}
        return self.commit(series, *cancelled, *pool.values(), answer=answer)


def series_fields(series: Series, bookings: list[Booking]) -> dict[str, Any]:
    """The answer: the series, its bookings and what it skipped and why."""
    return {
        "series_id": str(series.id),
        "bookings": [
            {
                "id": str(b.id),
                "status": b.status.value,
                "start": b.start,
                "end": b.end,
                "resources": b.held_resources(),
            }
            for b in bookings
        ],
        "skipped": series.skipped,
    }
