"""The direct offered-start check agrees with listing every candidate start of the day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.slots import Calendar, ServiceShape, candidate_starts, is_candidate_start
from domain.values import BookingPolicy, Closure, OpeningWindow
from tests.conftest import examples

ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Europe/London", "Australia/Lord_Howe"]
DAYS = [date(2026, 3, 8), date(2026, 11, 1), date(2026, 3, 29), date(2026, 6, 15)]

windows = st.builds(
    lambda day, start, length: OpeningWindow(day, start, start + length),
    st.integers(0, 6),
    st.integers(0, 24 * 60 - 5).map(lambda m: m - m % 5),
    st.integers(5, 16 * 60).map(lambda m: m - m % 5),
)
closures = st.builds(
    lambda day, start, length: Closure(
        datetime.combine(day, datetime.min.time(), UTC) + timedelta(minutes=start),
        datetime.combine(day, datetime.min.time(), UTC) + timedelta(minutes=start + length),
        "off",
    ),
    st.sampled_from(DAYS),
    st.integers(-24 * 60, 48 * 60),
    st.integers(5, 6 * 60),
)


@settings(max_examples=examples(150), deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    day=st.sampled_from(DAYS),
    weekly=st.lists(windows, max_size=4),
    closed=st.lists(closures, max_size=2),
    duration=st.sampled_from([5, 15, 30, 45, 60, 90, 240]),
    interval=st.sampled_from([5, 10, 15, 20, 30, 60]),
    offsets=st.lists(st.integers(-60, 36 * 60), max_size=20),
)
def test_the_direct_check_accepts_exactly_the_listed_starts(
    zone: str,
    day: date,
    weekly: list[OpeningWindow],
    closed: list[Closure],
    duration: int,
    interval: int,
    offsets: list[int],
) -> None:
    tz = ZoneInfo(zone)
    calendar = Calendar(tz, tuple(weekly), tuple(closed), 1, BookingPolicy())
    shape = ServiceShape(
        UUID(int=1),
        timedelta(minutes=duration),
        timedelta(0),
        timedelta(0),
        timedelta(minutes=interval),
        1,
    )
    midnight = datetime.combine(day, datetime.min.time(), tz).astimezone(UTC)
    listed = set(candidate_starts(calendar, shape, day, day))
    probes = {midnight + timedelta(minutes=m) for m in offsets} | listed
    for start in probes:
        local_day = start.astimezone(tz).date()
        expected = start in set(candidate_starts(calendar, shape, local_day, local_day))
        assert is_candidate_start(calendar, shape, start) == expected, start
