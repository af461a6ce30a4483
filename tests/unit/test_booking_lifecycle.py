"""The Booking state machine: every legal move succeeds, every other one is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.booking import ALLOWED_FROM, Booking, BookingStatus
from domain.errors import CancellationDeadlinePassed, IllegalTransition
from domain.personal import Sealed

from .builders import utc

S = BookingStatus
START = utc(2027, 6, 7, 15)
DAY_BEFORE = START - timedelta(days=1)
NO_DEADLINE = timedelta(0)

HOLD_ENDS = START - timedelta(hours=2)
# The path from a fresh booking (paid online for the first two) to each state.
PATHS: dict[BookingStatus, list[str]] = {
    S.PENDING_PAYMENT: [],
    S.EXPIRED: ["expire"],
    S.PENDING: [],
    S.CONFIRMED: ["confirm"],
    S.CHECKED_IN: ["confirm", "check_in"],
    S.COMPLETED: ["confirm", "check_in", "complete"],
    S.CANCELLED: ["cancel"],
    S.NO_SHOW: ["confirm", "mark_no_show"],
}
LEGAL = {
    ("confirm", S.PENDING): S.CONFIRMED,
    ("cancel", S.PENDING): S.CANCELLED,
    ("cancel", S.CONFIRMED): S.CANCELLED,
    ("reschedule", S.PENDING): S.PENDING,
    ("reschedule", S.CONFIRMED): S.CONFIRMED,
    ("check_in", S.CONFIRMED): S.CHECKED_IN,
    ("complete", S.CHECKED_IN): S.COMPLETED,
    ("mark_no_show", S.CONFIRMED): S.NO_SHOW,
    ("cancel", S.PENDING_PAYMENT): S.CANCELLED,
    ("reschedule", S.PENDING_PAYMENT): S.PENDING_PAYMENT,
    ("expire", S.PENDING_PAYMENT): S.EXPIRED,
    ("attach_payment_intent", S.PENDING_PAYMENT): S.PENDING_PAYMENT,
    ("note_payment_delay", S.PENDING_PAYMENT): S.PENDING_PAYMENT,
}
PAID_ONLINE = frozenset({S.PENDING_PAYMENT, S.EXPIRED})
ILLEGAL = [(a, s) for a in ALLOWED_FROM for s in BookingStatus if (a, s) not in LEGAL]


def placed(status: BookingStatus = S.PENDING, start: datetime = START) -> Booking:
    return Booking(
        id=uuid4(),
        business_id=uuid4(),
        service_id=uuid4(),
        customer_id="customer-1",
        placed_by="customer-1",
        start=start,
        end=start + timedelta(hours=1),
        occupied_start=start,
        occupied_end=start + timedelta(hours=1),
        timezone="America/New_York",
        service_name="Haircut",
        price_amount=Decimal("30.00"),
        currency="USD",
        personal_data=None,
        legacy_notes="",
        status=status,
        resources=[],
        series_id=None,
    )


def act(booking: Booking, action: str, *, now: datetime = START) -> None:
    """Perform `action` as staff at `now`, with no cancellation deadline."""
    moves: dict[str, Callable[[], None]] = {
        "confirm": lambda: booking.confirm("owner-1"),
        "cancel": lambda: booking.cancel("owner-1", None, now, NO_DEADLINE, staff=True),
        "reschedule": lambda: booking.reschedule(
            "owner-1",
            START + timedelta(hours=2),
            START + timedelta(hours=3),
            START + timedelta(hours=2),
            START + timedelta(hours=3),
            now,
            NO_DEADLINE,
            staff=True,
        ),
        "check_in": lambda: booking.check_in("owner-1"),
        "complete": lambda: booking.complete("owner-1"),
        "mark_no_show": lambda: booking.mark_no_show("owner-1", now),
        "expire": lambda: booking.expire(now),
        "attach_payment_intent": lambda: void(booking.attach_payment_intent("pi_1")),
        "note_payment_delay": lambda: booking.note_payment_delay("Stripe is down"),
    }
    moves[action]()


def void(_: object) -> None:
    return None


def booking_in(status: BookingStatus) -> Booking:
    """A booking brought to `status` by legal moves only."""
    if status in PAID_ONLINE:
        booking = placed(S.PENDING_PAYMENT)
        booking.request_payment("stripe", HOLD_ENDS)
    else:
        booking = placed()
    for action in PATHS[status]:
        act(booking, action)
    assert booking.status is status
    return booking


def test_covers_every_action_and_state() -> None:
    assert {a for a, _ in LEGAL} == set(ALLOWED_FROM)
    assert len(LEGAL) + len(ILLEGAL) == len(ALLOWED_FROM) * len(BookingStatus)


@pytest.mark.parametrize(("action", "status"), list(LEGAL), ids=lambda v: str(v))
def test_moves_a_booking_along_every_legal_transition(action: str, status: BookingStatus) -> None:
    booking = booking_in(status)
    act(booking, action)
    assert booking.status is LEGAL[(action, status)]


@pytest.mark.parametrize(("action", "status"), ILLEGAL, ids=lambda v: str(v))
def test_refuses_every_illegal_transition_with_a_clear_message(
    action: str, status: BookingStatus
) -> None:
    booking = booking_in(status)
    version = booking.version
    with pytest.raises(IllegalTransition) as refused:
        act(booking, action)
    message = str(refused.value)
    assert action.replace("_", " ") in message
    assert f"that is {status.value}" in message
    assert "allowed from:" in message
    assert (booking.status, booking.version) == (status, version)


def test_reports_illegal_transitions_as_conflicts() -> None:
    with pytest.raises(IllegalTransition) as refused:
        booking_in(S.COMPLETED).confirm("owner-1")
    assert refused.value.code == "illegal-transition"
    assert str(refused.value) == (
        "cannot confirm a booking that is completed (allowed from: pending)"
    )


def test_keeps_the_cancel_reason_sealed() -> None:
    booking = booking_in(S.CONFIRMED)
    reason = Sealed("customer-1", 1, b"ciphertext of flu")
    booking.cancel("customer-1", reason, DAY_BEFORE, NO_DEADLINE, staff=False)
    assert (booking.status, booking.cancel_reason) == (S.CANCELLED, reason)


def test_holds_its_slot_only_while_active() -> None:
    assert booking_in(S.CONFIRMED).holds_slot
    assert not booking_in(S.CANCELLED).holds_slot


def test_lets_a_customer_cancel_right_up_to_the_deadline() -> None:
    booking = booking_in(S.CONFIRMED)
    booking.cancel(
        "customer-1", None, START - timedelta(hours=24), timedelta(hours=24), staff=False
    )
    assert booking.status is S.CANCELLED


def test_refuses_a_customer_cancelling_after_the_deadline() -> None:
    booking = booking_in(S.CONFIRMED)
    late = START - timedelta(hours=23, minutes=59)
    with pytest.raises(CancellationDeadlinePassed, match="ask the business"):
        booking.cancel("customer-1", None, late, timedelta(hours=24), staff=False)
    assert booking.status is S.CONFIRMED


def test_lets_staff_cancel_inside_the_deadline_and_even_after_the_start() -> None:
    inside, after = booking_in(S.CONFIRMED), booking_in(S.CONFIRMED)
    inside.cancel("owner-1", None, START - timedelta(hours=1), timedelta(hours=24), staff=True)
    after.cancel("owner-1", None, START + timedelta(minutes=5), timedelta(hours=24), staff=True)
    assert inside.status is after.status is S.CANCELLED


def test_refuses_a_customer_cancelling_after_the_start_even_without_a_deadline() -> None:
    with pytest.raises(CancellationDeadlinePassed):
        booking_in(S.CONFIRMED).cancel(
            "customer-1", None, START + timedelta(minutes=1), NO_DEADLINE, staff=False
        )


def test_refuses_a_customer_rescheduling_after_the_deadline_but_not_staff() -> None:
    new = START + timedelta(days=1)
    late = START - timedelta(hours=2)
    booking = booking_in(S.CONFIRMED)

    def move(by: str, *, staff: bool) -> None:
        end = new + timedelta(hours=1)
        booking.reschedule(by, new, end, new, end, late, timedelta(hours=24), staff=staff)

    with pytest.raises(CancellationDeadlinePassed, match="reschedule"):
        move("customer-1", staff=False)
    assert booking.start == START
    move("owner-1", staff=True)
    assert booking.start == new


def test_records_where_a_rescheduled_booking_came_from() -> None:
    booking = booking_in(S.CONFIRMED)
    act(booking, "reschedule", now=DAY_BEFORE)
    moved = booking.collect_events()[-1]
    assert type(moved).__name__ == "Rescheduled"
    assert moved.previous_start == START  # type: ignore[attr-defined]
    assert (booking.start, booking.end) == (START + timedelta(hours=2), START + timedelta(hours=3))


def test_refuses_a_no_show_before_the_appointment_starts() -> None:
    booking = booking_in(S.CONFIRMED)
    with pytest.raises(IllegalTransition, match="before the appointment starts"):
        booking.mark_no_show("owner-1", START - timedelta(seconds=1))
    assert booking.status is S.CONFIRMED


def test_marks_a_no_show_from_the_start_onwards() -> None:
    booking = booking_in(S.CONFIRMED)
    booking.mark_no_show("owner-1", START)
    assert booking.status is S.NO_SHOW


def test_records_the_whole_visit_for_auditors() -> None:
    booking = booking_in(S.COMPLETED)
    names = [type(e).__name__ for e in booking.collect_events()]
    assert names == ["Placed", "Confirmed", "CheckedIn", "Completed"]


def test_an_old_cancellation_is_read_with_its_plain_reason_as_legacy() -> None:
    state: dict[str, object] = {"by": "customer-1", "reason": "flu"}
    Booking.Cancelled.upcast_v2_v3(state)
    assert state == {"by": "customer-1", "legacy_reason": "flu", "personal_data": None}
