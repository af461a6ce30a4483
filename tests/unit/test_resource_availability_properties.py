"""The resource availability rule against a brute-force oracle (Hypothesis): random resources
of two categories, own hours, time off, buffers and holds; UTC keeps the oracle minute-exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product
from uuid import UUID
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.resources import Requirement, ResourceCalendar, resource_slots
from domain.slots import ServiceShape
from domain.values import OpeningWindow

UTC_ZONE = ZoneInfo("UTC")
MONDAY = datetime(2027, 3, 1, tzinfo=UTC)


def minutes(m: int) -> datetime:
    return MONDAY + timedelta(minutes=m)


resource = st.tuples(
    st.sampled_from(["barber", "room"]),
    st.booleans(),  # active
    st.tuples(st.integers(0, 16), st.integers(1, 8)),  # opens at hour, for hours
    st.lists(st.tuples(st.integers(0, 24 * 60), st.integers(15, 240)), max_size=2),  # time off
    st.lists(st.tuples(st.integers(0, 24 * 60), st.integers(15, 120)), max_size=3),  # holds
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(resource, min_size=1, max_size=4),
    st.booleans(),  # also a room
    st.integers(15, 90),  # duration
    st.integers(0, 30),  # buffer before
    st.integers(0, 30),  # buffer after
)
def test_a_start_is_offered_exactly_when_some_combination_is_free(
    raw: list[tuple[str, bool, tuple[int, int], list[tuple[int, int]], list[tuple[int, int]]]],
    with_room: bool,
    duration: int,
    before: int,
    after: int,
) -> None:
    calendars, holds = [], {}
    for n, (category, active, (opens, hours), off, held) in enumerate(raw):
        rid = UUID(int=n + 1)
        window = OpeningWindow(0, opens * 60, min((opens + hours) * 60, 24 * 60))
        spans = tuple((minutes(s), minutes(s + d)) for s, d in off)
        calendars.append(ResourceCalendar(rid, f"R{n}", category, active, (window,), spans))
        holds[rid] = [(minutes(s), minutes(s + d)) for s, d in held]
    requirement = Requirement("barber", (), ("room",) if with_room else ())
    shape = ServiceShape(
        UUID(int=99),
        timedelta(minutes=duration),
        timedelta(minutes=before),
        timedelta(minutes=after),
        timedelta(minutes=15),
        1,
    )
    starts = [minutes(m) for m in range(0, 24 * 60, 15)]

    found = {
        s.start: s.seats_left
        for s in resource_slots(requirement, calendars, UTC_ZONE, shape, starts, holds)
    }

    for start in starts:
        lo, hi = start - shape.buffer_before, start + shape.duration + shape.buffer_after
        assert found.get(start, 0) == oracle(calendars, holds, requirement, lo, hi), start


def oracle(
    calendars: list[ResourceCalendar],
    holds: dict[UUID, list[tuple[datetime, datetime]]],
    requirement: Requirement,
    lo: datetime,
    hi: datetime,
) -> int:
    """Most bookings that could start: disjoint combinations of free resources, by brute force."""

    def free(r: ResourceCalendar) -> bool:
        t = lo
        while t < hi:  # every minute open, none off, none held
            m = (t - MONDAY) // timedelta(minutes=1)
            if not (r.active and 0 <= m < 24 * 60 and any(w.start <= m < w.end for w in r.weekly)):
                return False
            if any(s <= t < e for s, e in (*r.time_off, *holds[r.id])):
                return False
            t += timedelta(minutes=1)
        return True

    categories = ["barber", *requirement.also]
    parts = [[r for r in calendars if r.category == c and free(r)] for c in categories]
    best = 0
    for combos in range(1, len(calendars) + 1):
        choices = [list(product(*parts))] * combos
        if any(
            len({r.id for combo in pick for r in combo}) == combos * len(parts)
            for pick in product(*choices)
        ):
            best = combos
        else:
            break
    return best
