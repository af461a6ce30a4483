"""The slot engine on days whose wall clock jumps: DST changes and odd offsets."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from domain.errors import StartNotOffered
from domain.slots import (
    allocation_days,
    available_slots,
    candidate_starts,
    open_intervals,
    require_offered,
    seats_left,
)

from .builders import calendar, held, hours, service, utc

SPRING_FORWARD = date(2027, 3, 14)  # New York skips 02:00-03:00
FALL_BACK = date(2027, 11, 7)  # New York repeats 01:00-02:00
LONDON_SPRING = date(2027, 3, 28)  # London skips 01:00-02:00
LONDON_AUTUMN = date(2027, 10, 31)  # London repeats 01:00-02:00
LONG_BEFORE = utc(2027, 1, 1)


def starts_on(
    timezone: str,
    weekly: list[dict[str, str]],
    day: date,
    minutes: int,
    interval: int | None = None,
) -> list[datetime]:
    cal = calendar(timezone, weekly)
    return list(candidate_starts(cal, service(minutes, interval=interval), day, day))


def test_offers_four_hourly_slots_in_five_wall_clock_hours_on_the_spring_forward_day() -> None:
    starts = starts_on("America/New_York", hours(("sun", "00:00", "05:00")), SPRING_FORWARD, 60)
    # 00:00 EST is 05:00Z and 05:00 EDT is 09:00Z: only four hours really pass.
    assert starts == [
        utc(2027, 3, 14, 5),
        utc(2027, 3, 14, 6),
        utc(2027, 3, 14, 7),
        utc(2027, 3, 14, 8),
    ]


def test_offers_six_hourly_slots_in_five_wall_clock_hours_on_the_fall_back_day() -> None:
    starts = starts_on("America/New_York", hours(("sun", "00:00", "05:00")), FALL_BACK, 60)
    # 00:00 EDT is 04:00Z and 05:00 EST is 10:00Z: six hours really pass.
    assert starts == [utc(2027, 11, 7, hour) for hour in range(4, 10)]


def test_lets_customers_book_both_passes_through_the_repeated_hour() -> None:
    cal = calendar("America/New_York", hours(("sun", "00:00", "05:00")))
    first_one_am, second_one_am = utc(2027, 11, 7, 5), utc(2027, 11, 7, 6)
    require_offered(cal, service(60), first_one_am, LONG_BEFORE)
    require_offered(cal, service(60), second_one_am, LONG_BEFORE)


def test_refuses_a_start_at_the_spring_forward_closing_instant() -> None:
    cal = calendar("America/New_York", hours(("sun", "00:00", "05:00")))
    with pytest.raises(StartNotOffered):
        require_offered(cal, service(60), utc(2027, 3, 14, 9), LONG_BEFORE)


def test_opens_at_the_first_real_instant_when_hours_start_inside_the_missing_hour() -> None:
    cal = calendar("America/New_York", hours(("sun", "02:30", "04:00")))
    # 02:30 never happens; the business opens at 03:30 EDT.
    assert open_intervals(cal, SPRING_FORWARD, SPRING_FORWARD) == [
        (utc(2027, 3, 14, 7, 30), utc(2027, 3, 14, 8))
    ]


def test_keeps_the_shop_open_through_both_passes_of_a_repeated_hour() -> None:
    cal = calendar("America/New_York", hours(("sun", "01:00", "02:00")))
    assert open_intervals(cal, FALL_BACK, FALL_BACK) == [(utc(2027, 11, 7, 5), utc(2027, 11, 7, 7))]


def test_keeps_wall_clock_hours_on_the_days_around_a_change() -> None:
    cal = calendar("America/New_York", hours(("sat", "09:00", "17:00"), ("mon", "09:00", "17:00")))
    assert open_intervals(cal, date(2027, 3, 13), date(2027, 3, 15)) == [
        (utc(2027, 3, 13, 14), utc(2027, 3, 13, 22)),  # EST, UTC-5
        (utc(2027, 3, 15, 13), utc(2027, 3, 15, 21)),  # EDT, UTC-4
    ]


def test_counts_a_full_working_day_after_the_spring_change_in_daylight_time() -> None:
    starts = starts_on("America/New_York", hours(("sun", "09:00", "17:00")), SPRING_FORWARD, 60)
    assert starts == [utc(2027, 3, 14, hour) for hour in range(13, 21)]


def test_gives_an_overnight_shift_across_the_fall_back_an_extra_hour() -> None:
    weekly = hours(("sat", "20:00", "24:00"), ("sun", "00:00", "03:00"))
    cal = calendar("America/New_York", weekly)
    # 20:00 EDT Saturday is 00:00Z; 03:00 EST Sunday is 08:00Z: eight hours, one interval.
    assert open_intervals(cal, date(2027, 11, 6), FALL_BACK) == [
        (utc(2027, 11, 7, 0), utc(2027, 11, 7, 8))
    ]
    saturday = list(candidate_starts(cal, service(60), date(2027, 11, 6), date(2027, 11, 6)))
    sunday = list(candidate_starts(cal, service(60), FALL_BACK, FALL_BACK))
    assert len(saturday) + len(sunday) == 8
    assert len(saturday) == 4


def test_london_skips_its_one_am_hour_in_march() -> None:
    starts = starts_on("Europe/London", hours(("sun", "00:00", "04:00")), LONDON_SPRING, 60)
    # 00:00 GMT is 00:00Z; 04:00 BST is 03:00Z.
    assert starts == [utc(2027, 3, 28, 0), utc(2027, 3, 28, 1), utc(2027, 3, 28, 2)]


def test_london_repeats_its_one_am_hour_in_october() -> None:
    starts = starts_on("Europe/London", hours(("sun", "00:00", "04:00")), LONDON_AUTUMN, 60)
    # 00:00 BST on the 31st is 23:00Z on the 30th; 04:00 GMT is 04:00Z.
    assert starts == [utc(2027, 10, 30, 23), *(utc(2027, 10, 31, h) for h in range(4))]


def test_files_a_slot_under_its_local_date_not_its_utc_date() -> None:
    cal = calendar("Europe/London", hours(("sun", "00:00", "04:00")))
    saturday = date(2027, 10, 30)
    assert list(candidate_starts(cal, service(60), saturday, saturday)) == []


def test_offers_half_hour_offset_slots_in_kolkata() -> None:
    starts = starts_on("Asia/Kolkata", hours(("mon", "09:00", "12:00")), date(2027, 3, 1), 60)
    assert starts == [utc(2027, 3, 1, 3, 30), utc(2027, 3, 1, 4, 30), utc(2027, 3, 1, 5, 30)]


def test_puts_a_kolkata_early_morning_slot_on_the_previous_utc_day() -> None:
    cal = calendar("Asia/Kolkata", hours(("mon", "00:00", "01:00")))
    monday, sunday = date(2027, 3, 1), date(2027, 2, 28)
    assert list(candidate_starts(cal, service(60), monday, monday)) == [utc(2027, 2, 28, 18, 30)]
    assert list(candidate_starts(cal, service(60), sunday, sunday)) == []
    assert allocation_days(utc(2027, 2, 28, 18, 30), utc(2027, 2, 28, 19, 30)) == [sunday]


def test_refuses_a_kolkata_start_on_the_whole_hour_in_utc() -> None:
    cal = calendar("Asia/Kolkata", hours(("mon", "09:00", "12:00")))
    with pytest.raises(StartNotOffered):
        require_offered(cal, service(60), utc(2027, 3, 1, 4), LONG_BEFORE)


def test_counts_down_the_spring_forward_day_as_slots_are_taken() -> None:
    cal = calendar("America/New_York", hours(("sun", "00:00", "05:00")))
    haircut = service(60)
    taken = held(haircut, utc(2027, 3, 14, 6))
    slots = available_slots(cal, haircut, SPRING_FORWARD, SPRING_FORWARD, taken, LONG_BEFORE)
    assert [s.start for s in slots] == [
        utc(2027, 3, 14, 5),
        utc(2027, 3, 14, 7),
        utc(2027, 3, 14, 8),
    ]
    assert seats_left(1, haircut, utc(2027, 3, 14, 6), taken) == 0


def test_ends_each_slot_one_elapsed_duration_after_it_starts_across_the_jump() -> None:
    cal = calendar("America/New_York", hours(("sun", "01:00", "04:00")))
    slots = available_slots(
        cal, service(90, interval=30), SPRING_FORWARD, SPRING_FORWARD, [], LONG_BEFORE
    )
    # 01:00 EST (06:00Z) to 04:00 EDT (08:00Z): two real hours, 90-minute appointments.
    assert [(s.start, s.end) for s in slots] == [
        (utc(2027, 3, 14, 6), utc(2027, 3, 14, 7, 30)),
        (utc(2027, 3, 14, 6, 30), utc(2027, 3, 14, 8)),
    ]


def test_holds_an_interval_in_every_utc_day_it_touches() -> None:
    assert allocation_days(utc(2027, 3, 14, 23, 30), utc(2027, 3, 15, 0, 30)) == [
        date(2027, 3, 14),
        date(2027, 3, 15),
    ]


def test_does_not_hold_the_next_day_for_an_interval_ending_at_utc_midnight() -> None:
    assert allocation_days(utc(2027, 3, 14, 23), utc(2027, 3, 15, 0)) == [date(2027, 3, 14)]
