"""The read side's one-sweep availability answers exactly what the per-start slot engine does."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.occurrences import occurrences
from domain.slots import Occupancy, ServiceShape, available_slots, occupancy_for, seats_left
from domain.sweep import swept_seats
from domain.values import WEEKDAYS
from read_api.availability import offer
from tests.conftest import examples

from .builders import calendar, service, utc

ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Europe/London"]
DAYS = [date(2027, 6, 7), date(2026, 3, 8), date(2026, 11, 1), date(2027, 3, 28)]


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def weekly_hours(draw: Any) -> list[dict[str, str]]:
    windows = []
    for day in WEEKDAYS:
        cursor = draw(st.integers(0, 12)) * 60
        for _ in range(draw(st.integers(0, 2))):
            start = cursor + draw(st.integers(0, 8)) * 30
            end = min(start + draw(st.integers(1, 24)) * 30, 24 * 60)
            if start >= end:
                break
            windows.append({"day": day, "start": clock(start), "end": clock(end)})
            cursor = end
    return windows


SHAPES = st.builds(
    lambda duration, before, after, interval, seats: service(
        duration, before=before, after=after, interval=interval, seats=seats
    ),
    st.sampled_from([15, 30, 45, 60, 90]),
    st.sampled_from([0, 0, 10, 15]),
    st.sampled_from([0, 0, 5, 30]),
    st.sampled_from([None, 15, 30, 60]),
    st.sampled_from([1, 1, 2, 3]),
)


@st.composite
def days(draw: Any) -> dict[str, Any]:
    """A business day: hours, closures, capacity, services, bookings, a moment to ask at."""
    day = draw(st.sampled_from(DAYS))
    base = utc(day.year, day.month, day.day) - timedelta(days=1)
    quarter = st.integers(0, 3 * 24 * 4).map(lambda n: base + timedelta(minutes=15 * n))
    closures = [
        {"start": start, "end": start + timedelta(minutes=15 * draw(st.integers(1, 16)))}
        for start in draw(st.lists(quarter, max_size=3))
    ]
    shapes: list[ServiceShape] = draw(st.lists(SHAPES, min_size=1, max_size=3))
    bookings = draw(st.lists(st.tuples(st.integers(0, len(shapes) - 1), quarter), max_size=30))
    held = [occupancy_for(shapes[i], uuid4(), start) for i, start in bookings]
    return {
        "calendar": calendar(
            draw(st.sampled_from(ZONES)),
            draw(weekly_hours()),
            [{**c, "reason": "closed"} for c in closures],
            draw(st.integers(1, 3)),
            min_notice_minutes=draw(st.sampled_from([0, 60, 600])),
            max_advance_days=draw(st.sampled_from([1, 2, 365])),
        ),
        "shape": shapes[0],
        "seats": {s.service_id: s.seats for s in shapes},
        "held": held,
        "first": day,
        "last": day + timedelta(days=draw(st.integers(0, 1))),
        "now": base + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60))),
    }


@settings(max_examples=examples(300), deadline=None)
@given(days())
def test_one_sweep_offers_exactly_the_slots_counted_start_by_start(case: dict[str, Any]) -> None:
    args = (case["calendar"], case["shape"], case["first"], case["last"], case["held"])
    slow = available_slots(*args, case["now"], case["seats"])

    fast = offer(*args, case["now"], case["seats"])

    assert fast.slots == slow


@settings(max_examples=examples(200), deadline=None)
@given(days(), st.floats(0, 1))
def test_an_offer_stays_exact_until_the_instant_it_names(case: dict[str, Any], part: float) -> None:
    args = (case["calendar"], case["shape"], case["first"], case["last"], case["held"])
    fast = offer(*args, case["now"], case["seats"])
    horizon = min(fast.until, case["now"] + timedelta(days=3))
    later = case["now"] + (horizon - case["now"]) * part
    if later < fast.until:
        assert available_slots(*args, later, case["seats"]) == fast.slots


@settings(max_examples=examples(300), deadline=None)
@given(days(), st.lists(st.integers(-96, 4 * 96), max_size=40))
def test_swept_seats_equal_seats_left_at_any_start(case: dict[str, Any], steps: list[int]) -> None:
    base: datetime = datetime.combine(case["first"], datetime.min.time(), case["now"].tzinfo)
    starts = [base + timedelta(minutes=15 * n) for n in steps]
    held: list[Occupancy] = case["held"]
    shape, capacity = case["shape"], case["calendar"].capacity
    running = occurrences(held, {**case["seats"], shape.service_id: shape.seats})

    swept = swept_seats(capacity, shape, starts, running)

    assert swept == {s: seats_left(capacity, shape, s, held, case["seats"]) for s in starts}
