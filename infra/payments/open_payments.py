"""The `OpenPayments` port on the bookings read model (`slotwise payments reconcile`)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Engine, or_, select

from domain.booking import BookingStatus
from domain.payment import OPEN_STATUSES
from projections.tables import booking_payments, bookings


class ReadModelOpenPayments:
    """Bookings whose payment the read model shows open, or that still wait for payment."""

    def __init__(self, read_engine: Engine) -> None:
        self.read_engine = read_engine

    def __call__(self) -> list[UUID]:
        with self.read_engine.connect() as conn:
            rows = conn.execute(
                select(booking_payments.c.booking_id)
                .join(bookings, bookings.c.id == booking_payments.c.booking_id)
                .where(
                    or_(
                        booking_payments.c.status.in_([s.value for s in OPEN_STATUSES]),
                        bookings.c.status == BookingStatus.PENDING_PAYMENT.value,
                    )
                )
                .order_by(booking_payments.c.booking_id)
            )
            return [UUID(r) for r in rows.scalars()]
