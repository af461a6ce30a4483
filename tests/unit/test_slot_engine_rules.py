"""The slot engine's rules on ordinary days: hours, grid, closures, policy, buffers, seats."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from domain.errors import SlotUnavailable, StartNotOffered, TooFarAhead, TooLittleNotice
from domain.slots import (
    Occupancy,
    available_slots,
    candidate_starts,
    open_intervals,
    require_allocation,
    require_offered,
    seats_left,
)

from .builders import calendar, closure, every_day, held, hours, service, utc

MONDAY = date(2027, 6, 7)
FRIDAY, SATURDAY = date(2027, 6, 11), date(2027, 6, 12)
WEEK_BEFORE = utc(2027, 5, 31)


def at(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    return utc(day.year, day.month, day.day, hour, minute)


def starts(
    cal_hours: list[dict[str, str]], duration: int, interval: int | None = None, day: date = MONDAY
) -> list[datetime]:
    return list(
        candidate_starts(calendar("UTC", cal_hours), service(duration, interval=interval), day, day)
    )


def test_ends_the_last_slot_by_closing_time() -> None:
    assert starts(hours(("mon", "09:00", "12:00")), 60) == [at(9), at(10), at(11)]


def test_steps_a_slot_interval_smaller_than_the_duration() -> None:
    assert starts(hours(("mon", "09:00", "11:00")), 60, interval=15) == [
        at(9),
        at(9, 15),
        at(9, 30),
        at(9, 45),
        at(10),
    ]


def test_refuses_a_start_off_the_slot_grid() -> None:
    cal = calendar("UTC", hours(("mon", "09:00", "12:00")))
    with pytest.raises(StartNotOffered, match="off the slot grid") as refused:
        require_offered(cal, service(60), at(9, 10), WEEK_BEFORE)
    assert refused.value.field == "start"


def test_refuses_a_start_on_a_day_without_hours() -> None:
    cal = calendar("UTC", hours(("mon", "09:00", "12:00")))
    with pytest.raises(StartNotOffered):
        require_offered(cal, service(60), at(9, day=date(2027, 6, 8)), WEEK_BEFORE)


def test_joins_friday_late_hours_and_saturday_early_hours_into_one_night() -> None:
    night = calendar("UTC", hours(("fri", "20:00", "24:00"), ("sat", "00:00", "02:00")))
    assert open_intervals(night, FRIDAY, SATURDAY) == [(at(20, day=FRIDAY), at(2, day=SATURDAY))]


def test_offers_a_ninety_minute_booking_that_runs_past_midnight() -> None:
    night = calendar("UTC", hours(("fri", "20:00", "24:00"), ("sat", "00:00", "02:00")))
    late_show = service(90, interval=30)
    require_offered(night, late_show, at(23, 30, FRIDAY), WEEK_BEFORE)
    friday = available_slots(night, late_show, FRIDAY, FRIDAY, [], WEEK_BEFORE)
    assert friday[-1].start == at(23, 30, FRIDAY)
    assert friday[-1].end == at(1, 0, SATURDAY)


def test_lists_an_after_midnight_slot_under_saturday_and_stops_at_closing() -> None:
    night = calendar("UTC", hours(("fri", "20:00", "24:00"), ("sat", "00:00", "02:00")))
    saturday = available_slots(night, service(90, interval=30), SATURDAY, SATURDAY, [], WEEK_BEFORE)
    assert [s.start for s in saturday] == [at(0, 0, SATURDAY), at(0, 30, SATURDAY)]
    with pytest.raises(StartNotOffered):
        require_offered(night, service(90, interval=30), at(1, 0, SATURDAY), WEEK_BEFORE)


def test_offers_no_slot_that_overlaps_a_closure() -> None:
    lunch = [closure(at(10), at(11), "staff meeting")]
    cal = calendar("UTC", hours(("mon", "09:00", "13:00")), lunch)
    assert list(candidate_starts(cal, service(60, interval=30), MONDAY, MONDAY)) == [
        at(9),
        at(11),
        at(11, 30),
        at(12),
    ]


def test_refuses_a_start_inside_a_closure() -> None:
    cal = calendar("UTC", hours(("mon", "09:00", "13:00")), [closure(at(10), at(11))])
    with pytest.raises(StartNotOffered, match="closed"):
        require_offered(cal, service(60), at(10), WEEK_BEFORE)


def test_refuses_a_closure_on_the_night_a_booking_crosses_midnight() -> None:
    night = calendar(
        "UTC",
        hours(("fri", "20:00", "24:00"), ("sat", "00:00", "02:00")),
        [closure(at(0, 30, SATURDAY), at(2, 0, SATURDAY), "power cut")],
    )
    with pytest.raises(StartNotOffered):
        require_offered(night, service(90, interval=30), at(23, 30, FRIDAY), WEEK_BEFORE)


def test_refuses_a_start_with_less_than_the_minimum_notice() -> None:
    cal = calendar("UTC", every_day("09:00", "17:00"), min_notice_minutes=120)
    now = at(8)
    with pytest.raises(TooLittleNotice, match="120 minutes") as refused:
        require_offered(cal, service(60), at(9), now)
    assert refused.value.field == "start"
    require_offered(cal, service(60), at(10), now)


def test_refuses_a_start_in_the_past() -> None:
    with pytest.raises(TooLittleNotice):
        require_offered(calendar(), service(60), at(9), at(9, 1))


def test_hides_slots_inside_the_minimum_notice() -> None:
    cal = calendar("UTC", every_day("09:00", "13:00"), min_notice_minutes=90)
    slots = available_slots(cal, service(60), MONDAY, MONDAY, [], at(9))
    assert [s.start for s in slots] == [at(11), at(12)]


def test_refuses_a_start_beyond_the_maximum_advance() -> None:
    cal = calendar("UTC", every_day("09:00", "17:00"), max_advance_days=7)
    now = at(9) - timedelta(days=7)
    require_offered(cal, service(60), at(9), now)
    with pytest.raises(TooFarAhead, match="7 days") as refused:
        require_offered(cal, service(60), at(10), now)
    assert refused.value.field == "start"
    assert [s.start for s in available_slots(cal, service(60), MONDAY, MONDAY, [], now)] == [at(9)]


def test_blocks_the_next_start_for_the_buffer_after_a_booking() -> None:
    cal = calendar("UTC", hours(("mon", "09:00", "13:00")))
    colouring = service(60, after=15, interval=15)
    taken = held(colouring, at(9))
    free = [s.start for s in available_slots(cal, colouring, MONDAY, MONDAY, taken, WEEK_BEFORE)]
    assert at(10) not in free
    assert free[0] == at(10, 15)
    with pytest.raises(SlotUnavailable, match="fully booked"):
        require_allocation(1, colouring, at(10), taken)


def test_blocks_the_previous_start_for_the_buffer_before_a_booking() -> None:
    prepared = service(60, before=30, interval=30)
    taken = held(prepared, at(11))
    assert seats_left(1, prepared, at(10), taken) == 0
    assert seats_left(1, prepared, at(9, 30), taken) == 1


def test_lets_buffers_spill_outside_opening_hours() -> None:
    cal = calendar("UTC", hours(("mon", "09:00", "10:00")))
    require_offered(cal, service(60, before=15, after=15), at(9), WEEK_BEFORE)


def test_lets_a_booking_start_the_moment_the_previous_one_ends() -> None:
    haircut = service(60)
    assert seats_left(1, haircut, at(10), held(haircut, at(9), at(11))) == 1


def test_frees_a_place_at_the_instant_a_booking_ends_for_one_starting_then() -> None:
    haircut = service(60, interval=30)
    back_to_back = held(haircut, at(9), at(10))
    # At 10:00 one ends as the other starts: never two at once, so 09:30 fits at capacity 2.
    assert seats_left(2, haircut, at(9, 30), back_to_back) == 1


def test_fills_a_class_seat_by_seat_and_refuses_the_fourth_customer() -> None:
    yoga = service(60, seats=3)
    taken: list[Occupancy] = []
    counts = []
    for _ in range(3):
        counts.append(seats_left(1, yoga, at(9), taken))
        require_allocation(1, yoga, at(9), taken)
        taken += held(yoga, at(9))
    assert counts == [3, 2, 1]
    assert seats_left(1, yoga, at(9), taken) == 0
    with pytest.raises(SlotUnavailable):
        require_allocation(1, yoga, at(9), taken)


def test_lists_seats_left_and_drops_a_full_class() -> None:
    cal = calendar("UTC", hours(("mon", "09:00", "11:00")))
    yoga = service(60, seats=3)
    two_at_nine = held(yoga, at(9), at(9))
    slots = available_slots(cal, yoga, MONDAY, MONDAY, two_at_nine, WEEK_BEFORE)
    assert [(s.start, s.seats_left) for s in slots] == [(at(9), 1), (at(10), 3)]
    full = [*two_at_nine, *held(yoga, at(9))]
    assert [s.start for s in available_slots(cal, yoga, MONDAY, MONDAY, full, WEEK_BEFORE)] == [
        at(10)
    ]


def test_counts_a_class_with_free_seats_against_capacity() -> None:
    yoga, massage = service(60, seats=3), service(60)
    assert seats_left(1, massage, at(9, 30), held(yoga, at(9))) == 0


def test_serves_two_different_services_at_once_with_capacity_two_but_not_three() -> None:
    haircut, shave, nails = service(60), service(30), service(45)
    require_allocation(2, shave, at(9, 30), held(haircut, at(9)))
    taken = [*held(haircut, at(9)), *held(shave, at(9, 30))]
    with pytest.raises(SlotUnavailable):
        require_allocation(2, nails, at(9, 30), taken)
    assert seats_left(3, nails, at(9, 30), taken) == 1


def test_counts_who_runs_at_the_same_instant_not_who_overlaps_at_all() -> None:
    short, long = service(60), service(120)
    taken = [*held(short, at(9)), *held(short, at(11))]
    # 09:30-11:30 meets each short booking but never both at once.
    assert seats_left(2, long, at(9, 30), taken) == 1
    with pytest.raises(SlotUnavailable):
        require_allocation(2, short, at(9, 45), [*taken, *held(long, at(9, 30))])


def test_frees_the_place_of_a_short_booking_inside_a_long_one() -> None:
    long, short = service(180), service(60)
    taken = [*held(long, at(9)), *held(short, at(9))]
    assert seats_left(2, short, at(10), taken) == 1
    assert seats_left(2, short, at(9, 30), taken) == 0


def test_books_every_start_the_availability_listing_offers() -> None:
    always_open = calendar("UTC", every_day("00:00", "24:00"))
    session = service(50)
    listed = available_slots(
        always_open, session, date(2027, 6, 8), date(2027, 6, 9), [], WEEK_BEFORE
    )
    for slot in listed:
        require_offered(always_open, session, slot.start, WEEK_BEFORE)
