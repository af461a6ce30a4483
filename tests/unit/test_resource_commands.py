"""Bookable resources on the write side: assignment, double-booking, time off, series."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from commands.app import SlotWise
from commands.messages import (
    AddResource,
    AddTimeOff,
    CancelSeries,
    ChangeResource,
    CreateService,
    DeactivateResource,
    PlaceSeries,
    RegisterBusiness,
    RemoveTimeOff,
    RescheduleBooking,
    SetHours,
)
from domain.errors import BookingsAffected, InvalidInput, SlotUnavailable, StartNotOffered
from domain.resource_profile import ResourceProfile
from domain.service import ServiceTerms
from domain.values import Money

from .builders import ALICE, BOB, OWNER, WEEKDAYS_ONLY, book, booking, customer, every_day, new_york


def barbershop(
    app: SlotWise, barbers: int = 2, **requires: object
) -> tuple[UUID, UUID, list[UUID]]:
    business_id = app.register_business(
        RegisterBusiness(OWNER, "Cuts", "cuts", "America/New_York")
    ).id
    app.set_hours(SetHours(OWNER, business_id, every_day("09:00", "17:00", WEEKDAYS_ONLY)))
    ids = [
        app.handle(
            AddResource(OWNER, business_id, ResourceProfile(f"Barber {n}", "staff", "barber"))
        ).id
        for n in range(barbers)
    ]
    terms = ServiceTerms(
        "Cut", 60, Money.of("30", "USD"), requires=requires or {"category": "barber"}
    )
    service_id = app.create_service(CreateService(OWNER, business_id, terms)).id
    return business_id, service_id, sorted(ids, key=str)


def held_by(app: SlotWise, booking_id: UUID) -> list[str]:
    return [r["id"] for r in booking(app, booking_id).resources]


def test_any_barber_goes_to_the_least_booked_then_by_id(app: SlotWise) -> None:
    _, service_id, (first, second) = barbershop(app)

    one = book(app, ALICE, service_id, new_york(2, 9))
    two = book(app, BOB, service_id, new_york(2, 9))
    three = book(app, customer("carol"), service_id, new_york(2, 10))

    assert held_by(app, one) == [str(first)]
    assert held_by(app, two) == [str(second)]
    assert held_by(app, three) == [str(first)]  # both have one that day: the lower id
    with pytest.raises(SlotUnavailable):
        book(app, customer("dan"), service_id, new_york(2, 9))


def test_a_named_barber_is_held_or_refused(app: SlotWise) -> None:
    _, service_id, (_first, second) = barbershop(app)
    one = book(app, ALICE, service_id, new_york(2, 9), resource_id=second)
    assert booking(app, one).resources == [
        {"id": str(second), "name": booking(app, one).resources[0]["name"], "category": "barber"}
    ]
    with pytest.raises(SlotUnavailable):
        book(app, BOB, service_id, new_york(2, 9), resource_id=second)
    with pytest.raises(InvalidInput) as refused:
        book(app, BOB, service_id, new_york(2, 9), resource_id=UUID(int=7))
    assert refused.value.field == "resource_id"


def test_buffers_keep_a_barber_busy_but_not_the_other(app: SlotWise) -> None:
    business_id = app.register_business(
        RegisterBusiness(OWNER, "Cuts", "cuts", "America/New_York")
    ).id
    app.set_hours(SetHours(OWNER, business_id, every_day("09:00", "17:00", WEEKDAYS_ONLY)))
    joe = app.handle(AddResource(OWNER, business_id, ResourceProfile("Joe", "staff", "barber"))).id
    terms = ServiceTerms(
        "Cut", 60, Money.of("30", "USD"), buffer_after_minutes=30, requires={"category": "barber"}
    )
    service_id = app.create_service(CreateService(OWNER, business_id, terms)).id
    book(app, ALICE, service_id, new_york(2, 9), resource_id=joe)
    with pytest.raises(SlotUnavailable):
        book(app, BOB, service_id, new_york(2, 10), resource_id=joe)


def test_a_barber_works_only_their_own_hours(app: SlotWise) -> None:
    _business_id, service_id, (first, _) = barbershop(app)
    hours = every_day("12:00", "17:00", WEEKDAYS_ONLY)
    app.handle(ChangeResource(OWNER, first, {"weekly": hours}))
    with pytest.raises(SlotUnavailable):
        book(app, ALICE, service_id, new_york(2, 9), resource_id=first)
    assert book(app, ALICE, service_id, new_york(2, 12), resource_id=first)


def test_time_off_refuses_affected_bookings_unless_kept_and_blocks_new_ones(app: SlotWise) -> None:
    _, service_id, (first, second) = barbershop(app)
    kept = book(app, ALICE, service_id, new_york(2, 9), resource_id=first)
    start, end = new_york(2, 0), new_york(3, 0)

    with pytest.raises(BookingsAffected) as refused:
        app.handle(AddTimeOff(OWNER, first, start, end, "flu"))
    assert [b["id"] for b in refused.value.affected] == [str(kept)]

    done = app.handle(AddTimeOff(OWNER, first, start, end, "flu", keep_bookings=True))
    assert [b["id"] for b in done.fields["affected_bookings"]] == [str(kept)]
    later = book(app, BOB, service_id, new_york(2, 11))
    assert held_by(app, later) == [str(second)]  # first is off: any gets the other
    with pytest.raises(SlotUnavailable):
        book(app, BOB, service_id, new_york(2, 12), resource_id=first)

    app.handle(RemoveTimeOff(OWNER, first, UUID(done.fields["time_off_id"])))
    assert book(app, BOB, service_id, new_york(2, 12), resource_id=first)


def test_a_deactivated_barber_takes_no_new_bookings(app: SlotWise) -> None:
    _, service_id, (first, second) = barbershop(app)
    app.handle(DeactivateResource(OWNER, first))
    assert held_by(app, book(app, ALICE, service_id, new_york(2, 9))) == [str(second)]
    with pytest.raises(SlotUnavailable):
        book(app, BOB, service_id, new_york(2, 9))


def test_reschedule_keeps_the_barber_when_free_else_reassigns_or_refuses(app: SlotWise) -> None:
    _, service_id, (first, second) = barbershop(app)
    moving = book(app, ALICE, service_id, new_york(2, 9), resource_id=second)
    app.handle(RescheduleBooking(ALICE, moving, new_york(2, 10)))
    assert held_by(app, moving) == [str(second)]  # kept although `first` has fewer bookings

    book(app, BOB, service_id, new_york(2, 11), resource_id=second)
    app.handle(RescheduleBooking(ALICE, moving, new_york(2, 11)))
    assert held_by(app, moving) == [str(first)]  # second is busy then: reassigned
    with pytest.raises(SlotUnavailable):
        app.handle(RescheduleBooking(ALICE, moving, new_york(2, 11), resource_id=second))


def test_a_treatment_needs_a_therapist_and_a_room(app: SlotWise) -> None:
    business_id = app.register_business(
        RegisterBusiness(OWNER, "Spa", "spa", "America/New_York")
    ).id
    app.set_hours(SetHours(OWNER, business_id, every_day("09:00", "17:00", WEEKDAYS_ONLY)))
    for name, kind, category in [("Ann", "staff", "therapist"), ("Bo", "staff", "therapist")]:
        app.handle(AddResource(OWNER, business_id, ResourceProfile(name, kind, category)))
    app.handle(AddResource(OWNER, business_id, ResourceProfile("Room 1", "room", "room")))
    terms = ServiceTerms(
        "Massage",
        60,
        Money.of("80", "USD"),
        requires={"category": "therapist"},
        also_requires=("room",),
    )
    service_id = app.create_service(CreateService(OWNER, business_id, terms)).id
    first = book(app, ALICE, service_id, new_york(2, 9))
    assert [r["category"] for r in booking(app, first).resources] == ["therapist", "room"]
    with pytest.raises(SlotUnavailable):  # a therapist is free, the only room is not
        book(app, BOB, service_id, new_york(2, 9))


def test_a_weekly_series_keeps_nine_o_clock_across_the_dst_change(app: SlotWise) -> None:
    _, service_id, _ = barbershop(app)
    start = datetime(2027, 3, 8, 9, tzinfo=ZoneInfo("America/New_York"))  # DST starts 03-14
    done = app.handle(PlaceSeries(ALICE, service_id, start, every="P1W", count=3))
    starts = [b["start"].astimezone(ZoneInfo("America/New_York")) for b in done.fields["bookings"]]
    assert [(s.day, s.hour) for s in starts] == [(8, 9), (15, 9), (22, 9)]
    assert {booking(app, UUID(b["id"])).series_id for b in done.fields["bookings"]} == {done.id}


def test_all_or_nothing_writes_nothing_and_skip_conflicts_says_why(app: SlotWise) -> None:
    _, service_id, _ = barbershop(app, barbers=1)
    book(app, BOB, service_id, datetime(2027, 3, 15, 9, tzinfo=ZoneInfo("America/New_York")))
    start = datetime(2027, 3, 8, 9, tzinfo=ZoneInfo("America/New_York"))
    before = app.recorder.max_notification_id()
    with pytest.raises(SlotUnavailable, match="2027-03-15"):
        app.handle(PlaceSeries(ALICE, service_id, start, every="P1W", count=3))
    assert app.recorder.max_notification_id() == before

    done = app.handle(
        PlaceSeries(ALICE, service_id, start, every="P1W", count=4, mode="skip_conflicts")
    )
    assert len(done.fields["bookings"]) == 3
    assert done.fields["skipped"] == [
        {"start": "2027-03-15T13:00:00+00:00", "reason": "slot-unavailable"}
    ]
    cancelled = app.handle(CancelSeries(ALICE, done.id, start_from=new_york(20, 0)))
    assert len(cancelled.fields["cancelled"]) == 2  # 03-22 and 03-29
    assert book(app, BOB, service_id, datetime(2027, 3, 22, 9, tzinfo=ZoneInfo("America/New_York")))


def test_a_series_refuses_a_bad_repeat(app: SlotWise) -> None:
    _, service_id, _ = barbershop(app)
    for every, count, field in [("P1M", 2, "repeat.every"), ("P1W", 53, "repeat.count")]:
        with pytest.raises(InvalidInput) as refused:
            app.handle(PlaceSeries(ALICE, service_id, new_york(8, 9), every=every, count=count))
        assert refused.value.field == field
    with pytest.raises(StartNotOffered):
        app.handle(PlaceSeries(ALICE, service_id, new_york(6, 9), every="P1D", count=2))
