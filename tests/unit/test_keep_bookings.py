"""Changes that leave bookings outside opening time or over capacity: refused unless kept."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from commands.app import SlotWise
from commands.messages import (
    AddClosure,
    CancelBooking,
    ChangeProfile,
    CheckInBooking,
    CommandContext,
    CompleteBooking,
    SetHours,
    SetPolicy,
)
from domain.booking import BookingStatus
from domain.errors import BookingsAffected
from domain.values import BookingPolicy

from .builders import ALICE, BOB, OWNER, Clock, book, booking, every_day, new_york, open_salon

WEEKDAYS_ONLY = ("mon", "tue", "wed", "thu", "fri")


def business_version(app: SlotWise, business_id: UUID) -> int:
    version: int = app.repository.get(business_id).version
    return version


def affected_ids(error: pytest.ExceptionInfo[BookingsAffected]) -> set[str]:
    return {b["id"] for b in error.value.affected}


def close(app: SlotWise, business_id: UUID, day: int, keep: bool = False) -> AddClosure:
    return AddClosure(OWNER, business_id, new_york(day, 0), new_york(day + 1, 0), "x", keep)


def test_a_closure_over_a_confirmed_booking_is_refused_listing_it_and_saves_nothing(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    business_id, service_id = salon
    booked = book(app, ALICE, service_id, new_york(2, 10))
    before = business_version(app, business_id)

    with pytest.raises(BookingsAffected) as refused:
        app.handle(close(app, business_id, 2))

    assert affected_ids(refused) == {str(booked)}
    assert refused.value.affected[0]["status"] == "confirmed"
    assert refused.value.field == "keep_bookings"
    assert business_version(app, business_id) == before


def test_keep_bookings_adds_the_closure_lists_the_booking_and_leaves_it_confirmed(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    business_id, service_id = salon
    booked = book(app, ALICE, service_id, new_york(2, 10))
    command = close(app, business_id, 2, keep=True)

    done = app.handle(command)

    assert [b["id"] for b in done.fields["affected_bookings"]] == [str(booked)]
    assert done.fields["closure_id"] == str(command.closure_id())
    assert booking(app, booked).status is BookingStatus.CONFIRMED


@pytest.mark.parametrize(
    ("steps", "flagged"),
    [
        ([], True),
        ([CheckInBooking], True),
        ([CheckInBooking, CompleteBooking], False),
    ],
)
def test_only_bookings_still_to_serve_stand_in_the_way(
    app: SlotWise, salon: tuple[UUID, UUID], steps: list[type], flagged: bool
) -> None:
    business_id, service_id = salon
    booked = book(app, ALICE, service_id, new_york(2, 10))
    for step in steps:
        app.handle(step(OWNER, booked))

    if flagged:
        with pytest.raises(BookingsAffected):
            app.handle(close(app, business_id, 2))
    else:
        assert app.handle(close(app, business_id, 2)).fields["affected_bookings"] == []


def test_a_cancelled_booking_or_one_on_another_day_is_not_in_the_way(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    business_id, service_id = salon
    app.handle(CancelBooking(ALICE, book(app, ALICE, service_id, new_york(2, 10)), "no"))
    book(app, BOB, service_id, new_york(3, 10))

    assert app.handle(close(app, business_id, 2)).fields["affected_bookings"] == []


def test_hours_that_drop_a_booked_day_are_refused_unless_kept(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    business_id, service_id = salon
    tuesday = book(app, ALICE, service_id, new_york(2, 10))
    book(app, BOB, service_id, new_york(3, 10))  # a Wednesday stays open
    no_tuesdays = every_day("09:00", "17:00", ("mon", "wed", "thu", "fri"))

    with pytest.raises(BookingsAffected) as refused:
        app.handle(SetHours(OWNER, business_id, no_tuesdays))
    kept = app.handle(SetHours(OWNER, business_id, no_tuesdays, keep_bookings=True))

    assert affected_ids(refused) == {str(tuesday)}
    assert [b["id"] for b in kept.fields["affected_bookings"]] == [str(tuesday)]
    assert kept.fields["weekly"][0]["day"] == "mon"


def test_shorter_hours_flag_only_the_bookings_that_no_longer_fit(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    business_id, service_id = salon
    book(app, ALICE, service_id, new_york(2, 9))
    late = book(app, BOB, service_id, new_york(2, 15))

    with pytest.raises(BookingsAffected) as refused:
        app.handle(SetHours(OWNER, business_id, every_day("09:00", "15:30", WEEKDAYS_ONLY)))

    assert affected_ids(refused) == {str(late)}


def test_a_booking_kept_through_a_closure_is_not_flagged_again_by_later_hours(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    business_id, service_id = salon
    book(app, ALICE, service_id, new_york(2, 10))
    app.handle(close(app, business_id, 2, keep=True))

    done = app.handle(SetHours(OWNER, business_id, every_day("08:00", "17:00", WEEKDAYS_ONLY)))

    assert done.fields["affected_bookings"] == []


def test_a_new_time_zone_that_moves_hours_away_from_a_booking_is_refused(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    business_id, service_id = salon
    booked = book(app, ALICE, service_id, new_york(2, 15))  # 20:00 UTC: London is closed

    with pytest.raises(BookingsAffected) as refused:
        app.handle(ChangeProfile(OWNER, business_id, timezone="Europe/London"))
    renamed = app.handle(ChangeProfile(OWNER, business_id, name="Salon Nord"))

    assert affected_ids(refused) == {str(booked)}
    assert renamed.fields["name"] == "Salon Nord"
    assert renamed.fields["timezone"] == "America/New_York"


def test_less_capacity_than_bookings_running_together_is_refused_unless_kept(
    app: SlotWise,
) -> None:
    business_id, service_id = open_salon(app, OWNER, capacity=2)
    first = book(app, ALICE, service_id, new_york(2, 10))
    second = book(app, BOB, service_id, new_york(2, 10))
    book(app, ALICE, service_id, new_york(3, 10))  # alone on its day

    with pytest.raises(BookingsAffected) as refused:
        app.handle(ChangeProfile(OWNER, business_id, capacity=1))
    kept = app.handle(ChangeProfile(OWNER, business_id, capacity=1, keep_bookings=True))

    assert affected_ids(refused) == {str(first), str(second)}
    assert refused.value.field == "keep_bookings"
    assert kept.fields["capacity"] == 1 and len(kept.fields["affected_bookings"]) == 2


def test_a_booking_made_under_a_longer_advance_policy_is_still_found(
    app: SlotWise, salon: tuple[UUID, UUID], clock: Clock
) -> None:
    business_id, service_id = salon
    app.handle(SetPolicy(OWNER, business_id, BookingPolicy(max_advance_days=400)))
    far = book(app, ALICE, service_id, new_york(2, 10) + timedelta(days=385))  # a Tuesday
    app.handle(SetPolicy(OWNER, business_id, BookingPolicy(max_advance_days=30)))

    with pytest.raises(BookingsAffected) as refused:
        app.handle(SetHours(OWNER, business_id, every_day("09:00", "17:00", ("mon",))))

    assert affected_ids(refused) == {str(far)}


def test_a_replayed_closure_answers_with_the_same_closure_and_adds_no_second_one(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    business_id, service_id = salon
    booked = book(app, ALICE, service_id, new_york(2, 10))
    first_try = close(app, business_id, 2, keep=True)
    context = CommandContext.replayable_as(uuid4(), "corr-1")
    first = app.handle(AddClosure(**{**vars(first_try), "context": context}))

    again = app.handle(AddClosure(**{**vars(first_try), "context": context}))

    assert again.fields == first.fields
    assert again.fields["affected_bookings"][0]["id"] == str(booked)
    assert len(app.repository.get(business_id).closures) == 1


def test_a_closure_of_centuries_reads_only_the_days_a_booking_can_hold(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    business_id, service_id = salon
    booked = book(app, ALICE, service_id, new_york(2, 10))
    reads: list[UUID] = []
    load = app.load_or_none
    app.load_or_none = lambda cls, i, **o: reads.append(i) or load(cls, i, **o)  # type: ignore[method-assign]
    centuries = AddClosure(OWNER, business_id, new_york(2, 0).replace(year=1900), new_york(2, 0))

    with pytest.raises(BookingsAffected) as refused:
        app.handle(AddClosure(**{**vars(centuries), "end": new_york(2, 0).replace(year=2900)}))

    assert affected_ids(refused) == {str(booked)}
    assert len(reads) < 400  # the 365-day horizon, not a thousand years of days
