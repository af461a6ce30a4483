"""A resource's open minutes: its hours within the business's, less closures and time off."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.resources import ResourceCalendar, open_minutes, open_spans
from domain.slots import Calendar
from domain.values import BookingPolicy, Closure, parse_weekly

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2027, 3, 8)


def _at(hour: int) -> datetime:
    return datetime(2027, 3, 8, hour, tzinfo=BERLIN)


def _weekly(start: str, end: str) -> list[dict[str, str]]:
    return [{"day": "mon", "start": start, "end": end}]


def _resource(
    weekly: list[dict[str, str]], time_off: tuple[tuple[datetime, datetime], ...] = ()
) -> ResourceCalendar:
    return ResourceCalendar(UUID(int=1), "Joe", "barber", True, parse_weekly(weekly), time_off)


def test_only_the_hours_both_keep_count_less_closures_and_time_off() -> None:
    business = Calendar(
        BERLIN,
        parse_weekly(_weekly("09:00", "17:00")),
        (Closure(_at(16), _at(17), "inventory"),),
        1,
        BookingPolicy(),
    )
    joe = _resource(_weekly("12:00", "20:00"), ((_at(13), _at(14)),))
    assert open_minutes(joe, business, MONDAY) == 3 * 60  # 12-16 less 13-14
    assert open_spans(joe, business, MONDAY) == [(_at(12), _at(13)), (_at(14), _at(16))]
    assert open_minutes(_resource(_weekly("09:00", "17:00")), business, MONDAY) == 7 * 60
    assert open_minutes(joe, business, date(2027, 3, 9)) == 0  # nobody works Tuesdays
