"""The hold's end and the payment, racing for real on PostgreSQL: exactly one of them wins.

Two threads, released together by a barrier, send ExpireHold and
RecordPaymentSucceeded for the same booking as two payment workers would.
Whatever the interleaving, the booking ends either confirmed, paid and
holding its slot, or expired with the payment owed back and its slot free:
never confirmed without its slot, never both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from commands.messages import (
    CommandContext,
    CreateService,
    PlaceBooking,
    RegisterBusiness,
    SetHours,
)
from commands.payment_messages import ConfigurePayments, ExpireHold, RecordPaymentSucceeded
from domain.actor import Actor, Role, system_actor
from domain.allocation import DayAllocation
from domain.booking import Booking, BookingStatus
from domain.payment import PaymentSettings, PaymentStatus
from domain.service import ServiceTerms
from domain.values import Money
from infra.bootstrap import Container, bootstrap
from tests.conftest import FrozenClock
from tests.e2e.conftest import MONDAY, local
from tests.payments.conftest import paid_settings

pytestmark = pytest.mark.postgres  # its settings name the store directly
SAGA = system_actor("payment-saga")
OWNER = Actor("owner-a", Role.OWNER)
RACES = 12


@pytest.fixture
def container(
    tmp_path: Path, request: pytest.FixtureRequest, clock: FrozenClock
) -> Iterator[Container]:
    """SlotWise on PostgreSQL able to take payments (Stripe itself is never called here)."""
    settings = paid_settings("postgres", tmp_path, request, "http://127.0.0.1:9")
    built = bootstrap(settings, clock=clock)
    yield built
    built.close()


def test_the_hold_ending_and_the_payment_never_both_win(
    container: Container, clock: FrozenClock
) -> None:
    app = container.app
    business = app.handle(RegisterBusiness(OWNER, "Salon", "salon", "Europe/Berlin")).id
    weekly = [{"day": "mon", "start": "00:00", "end": "24:00"}]
    app.handle(SetHours(OWNER, business, weekly))
    app.handle(ConfigurePayments(OWNER, business, PaymentSettings(enabled=True)))
    terms = ServiceTerms("Cut", 30, Money.of("30.00", "EUR"))
    service = app.handle(CreateService(OWNER, business, terms)).id
    starts = [local(MONDAY, 0) + timedelta(hours=h) for h in range(RACES)]
    bookings = [
        app.handle(PlaceBooking(Actor(f"c{n}", Role.CUSTOMER), service, start)).id
        for n, start in enumerate(starts)
    ]
    clock.now += timedelta(minutes=16)  # every hold is over: both commands are legal

    for booking_id in bookings:
        race(
            lambda b=booking_id: app.handle(ExpireHold(SAGA, b, context=CommandContext.new())),
            lambda b=booking_id: app.handle(
                RecordPaymentSucceeded(SAGA, b, f"pi_{b}", Decimal("30.00"), "EUR")
            ),
        )

    outcomes = set()
    for booking_id, start in zip(bookings, starts, strict=True):
        booking: Booking = app.repository.get(booking_id)
        held = booking_id in holds(container, business, start)
        payment = booking.paid_online()
        if booking.status is BookingStatus.CONFIRMED:
            assert held and payment.status is PaymentStatus.SUCCEEDED
        else:
            assert booking.status is BookingStatus.EXPIRED and not held
            assert payment.status is PaymentStatus.REFUND_PENDING  # the money goes back
        outcomes.add(booking.status)
    assert outcomes  # (which side wins each race is up to the scheduler)


def race(*moves: Callable[[], object]) -> None:
    barrier = threading.Barrier(len(moves))
    errors: list[BaseException] = []

    def run(move: Callable[[], object]) -> None:
        barrier.wait()
        try:
            move()
        except BaseException as error:  # an IllegalTransition for the loser is fine
            errors.append(error)

    threads = [threading.Thread(target=run, args=(m,)) for m in moves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(type(e).__name__ == "IllegalTransition" for e in errors), errors


def holds(container: Container, business: UUID, start: Any) -> set[UUID]:
    allocation: DayAllocation = container.app.repository.get(
        DayAllocation.create_id(business, start.astimezone(UTC).date())
    )
    return set(allocation.held)
