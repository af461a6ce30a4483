"""Value objects: money, clock times, opening hours, closures, policy, zones."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.errors import (
    InvalidClosure,
    InvalidHours,
    InvalidInput,
    InvalidMoney,
    InvalidTimezone,
)
from domain.slots import require_offered
from domain.values import (
    BookingPolicy,
    Closure,
    Money,
    clock_minutes,
    parse_weekly,
    require_aware,
    zone,
)

from .builders import NEW_YORK, calendar, hours, service, utc


def test_keeps_a_price_to_the_cent_in_its_currency() -> None:
    price = Money.of("30", "EUR")
    assert price == Money(Decimal("30.00"), "EUR")
    assert price.as_dict() == {"amount": "30.00", "currency": "EUR"}


@pytest.mark.parametrize("amount", ["-0.01", "-5", "NaN", "Infinity"])
def test_refuses_a_price_that_is_negative_or_not_finite(amount: str) -> None:
    with pytest.raises(InvalidMoney) as refused:
        Money.of(amount, "EUR")
    assert refused.value.field == "price.amount"


def test_refuses_a_price_that_is_not_a_number() -> None:
    with pytest.raises(InvalidMoney) as refused:
        Money.of("ten", "EUR")
    assert refused.value.field == "price"


def test_refuses_fractions_of_a_cent() -> None:
    with pytest.raises(InvalidMoney, match="at most 2 decimals") as refused:
        Money.of("9.999", "EUR")
    assert refused.value.field == "price.amount"


@pytest.mark.parametrize("currency", ["eur", "EURO", "E1R", "", "XYZ", "XAU", "XXX", "XTS"])
def test_refuses_a_currency_that_is_not_an_iso_4217_code(currency: str) -> None:
    with pytest.raises(InvalidMoney) as refused:
        Money.of("1", currency)
    assert refused.value.field == "price.currency"


def test_refuses_an_absurdly_large_price_as_invalid_money() -> None:
    with pytest.raises(InvalidMoney) as refused:
        Money.of("1e30", "EUR")
    assert refused.value.field == "price.amount"


def test_refuses_a_currency_with_a_trailing_newline() -> None:
    with pytest.raises(InvalidMoney):
        Money.of("1", "EUR\n")


@pytest.mark.parametrize(("text", "minutes"), [("00:00", 0), ("09:30", 570), ("24:00", 1440)])
def test_reads_a_clock_time_as_minutes_after_local_midnight(text: str, minutes: int) -> None:
    assert clock_minutes(text, "start") == minutes


@pytest.mark.parametrize("text", ["25:00", "24:30", "12:60", "9:00", "noon", ""])
def test_refuses_a_clock_time_that_is_not_a_time_of_day(text: str) -> None:
    with pytest.raises(InvalidHours) as refused:
        clock_minutes(text, "weekly[0].start")
    assert refused.value.field == "weekly[0].start"


def test_refuses_a_clock_time_with_a_trailing_newline() -> None:
    with pytest.raises(InvalidHours):
        clock_minutes("09:00\n", "weekly[0].start")


def test_sorts_weekly_hours_by_day_and_time() -> None:
    windows = parse_weekly(
        hours(("tue", "13:00", "17:00"), ("mon", "09:00", "12:00"), ("tue", "08:00", "12:00"))
    )
    assert [w.as_dict() for w in windows] == hours(
        ("mon", "09:00", "12:00"), ("tue", "08:00", "12:00"), ("tue", "13:00", "17:00")
    )


def test_refuses_opening_hours_that_end_before_they_start_and_explains_overnight_hours() -> None:
    with pytest.raises(InvalidHours, match="reopen at 00:00") as refused:
        parse_weekly(hours(("mon", "09:00", "17:00"), ("fri", "20:00", "02:00")))
    assert refused.value.field == "weekly[1].end"


def test_refuses_opening_hours_that_close_as_they_open() -> None:
    with pytest.raises(InvalidHours) as refused:
        parse_weekly(hours(("mon", "09:00", "09:00")))
    assert refused.value.field == "weekly[0].end"


def test_refuses_an_unknown_weekday_naming_the_window() -> None:
    with pytest.raises(InvalidHours) as refused:
        parse_weekly(hours(("mon", "09:00", "17:00"), ("funday", "09:00", "17:00")))
    assert refused.value.field == "weekly[1].day"


def test_refuses_an_hour_past_midnight_naming_the_window() -> None:
    with pytest.raises(InvalidHours) as refused:
        parse_weekly(hours(("mon", "09:00", "25:00")))
    assert refused.value.field == "weekly[0].end"


def test_refuses_windows_that_overlap_on_one_day() -> None:
    with pytest.raises(InvalidHours, match="overlap on mon") as refused:
        parse_weekly(hours(("mon", "09:00", "12:00"), ("mon", "11:00", "14:00")))
    assert refused.value.field == "weekly"


def test_accepts_windows_that_only_touch() -> None:
    assert len(parse_weekly(hours(("mon", "09:00", "12:00"), ("mon", "12:00", "14:00")))) == 2


def test_stores_a_closure_in_utc() -> None:
    closure = Closure.of(
        datetime(2027, 7, 4, 0, 0, tzinfo=NEW_YORK),
        datetime(2027, 7, 5, 0, 0, tzinfo=NEW_YORK),
        "Independence Day",
    )
    assert (closure.start, closure.end) == (utc(2027, 7, 4, 4), utc(2027, 7, 5, 4))
    assert closure.start.utcoffset() == timedelta(0)


def test_refuses_a_closure_that_ends_before_it_starts() -> None:
    with pytest.raises(InvalidClosure) as refused:
        Closure.of(utc(2027, 7, 5), utc(2027, 7, 4), "backwards")
    assert refused.value.field == "end"


@pytest.mark.parametrize("field", ["start", "end"])
def test_refuses_a_closure_with_a_naive_time(field: str) -> None:
    times = {"start": utc(2027, 7, 4), "end": utc(2027, 7, 5)}
    times[field] = times[field].replace(tzinfo=None)
    with pytest.raises(InvalidInput) as refused:
        Closure.of(times["start"], times["end"], "naive")
    assert refused.value.field == field


def test_refuses_a_naive_datetime_instead_of_guessing_its_zone() -> None:
    with pytest.raises(InvalidInput, match="UTC offset") as refused:
        require_aware(datetime(2027, 3, 2, 9, 0), "start")
    assert refused.value.field == "start"


def test_reads_an_offset_datetime_as_the_same_instant_in_utc() -> None:
    moment = datetime(2027, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert require_aware(moment, "start") == utc(2027, 3, 2, 3, 30)
    assert require_aware(moment, "start").utcoffset() == timedelta(0)


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "../etc/passwd", "new york"])
def test_refuses_an_unknown_time_zone_naming_the_field(name: str) -> None:
    with pytest.raises(InvalidTimezone) as refused:
        zone(name)
    assert refused.value.field == "timezone"


def test_knows_the_iana_zones_a_business_may_use() -> None:
    assert zone("Asia/Kolkata").utcoffset(datetime(2027, 1, 1)) == timedelta(hours=5, minutes=30)


@pytest.mark.parametrize(
    "name", ["min_notice_minutes", "max_advance_days", "cancellation_deadline_hours"]
)
def test_refuses_a_negative_booking_policy_naming_the_field(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        BookingPolicy(**{name: -1})  # type: ignore[arg-type]
    assert refused.value.field == name


def test_defaults_to_booking_up_to_a_year_ahead_without_notice_or_deadline() -> None:
    policy = BookingPolicy()
    assert (policy.min_notice, policy.max_advance, policy.cancellation_deadline) == (
        timedelta(0),
        timedelta(days=365),
        timedelta(0),
    )
    assert policy.requires_confirmation is False


def test_refuses_a_maximum_advance_beyond_the_calendar() -> None:
    with pytest.raises(InvalidInput) as refused:
        huge = calendar(max_advance_days=4_000_000)
        require_offered(huge, service(60), utc(2027, 3, 2, 9), utc(2027, 3, 1))
    assert refused.value.field == "max_advance_days"
