"""Sample data for `slotwise dev --demo`: businesses, their services and some bookings."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from commands.app import SlotWise
from commands.messages import CreateService, PlaceBooking, RegisterBusiness, SetHours, SetPolicy
from domain.actor import Actor, Role
from domain.business import Business, SlugIndex
from domain.errors import BusinessNotFound, ServiceNotFound
from domain.service import Service, ServiceTerms
from domain.slots import candidate_starts
from domain.values import BookingPolicy, Money
from infra.demo_resources import load_resource_demo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def load_demo(app: SlotWise) -> bool:
    """Load the sample data once; False when it is already there."""
    if app.load_or_none(SlugIndex, SlugIndex.create_id("studio-nord")) is not None:
        return False
    owner = Actor("owner-ada", Role.OWNER)
    salon = app.register_business(
        RegisterBusiness(owner, "Studio Nord", "studio-nord", "Europe/Berlin", 2)
    )
    app.set_hours(
        SetHours(owner, salon.id, [{"day": d, "start": "09:00", "end": "18:00"} for d in WEEKDAYS])
    )
    app.set_policy(
        SetPolicy(
            owner, salon.id, BookingPolicy(min_notice_minutes=60, cancellation_deadline_hours=24)
        )
    )
    cut = app.create_service(
        CreateService(
            owner,
            salon.id,
            ServiceTerms(
                "Haircut",
                45,
                Money.of(Decimal("42.00"), "EUR"),
                buffer_after_minutes=15,
                slot_interval_minutes=30,
            ),
        )
    )
    app.create_service(
        CreateService(
            owner,
            salon.id,
            ServiceTerms(
                "Colour",
                90,
                Money.of(Decimal("95.00"), "EUR"),
                buffer_after_minutes=15,
                slot_interval_minutes=30,
            ),
        )
    )
    coach = Actor("owner-bo", Role.OWNER)
    gym = app.register_business(
        RegisterBusiness(coach, "Kolkata Court Club", "kolkata-courts", "Asia/Kolkata", 1)
    )
    app.set_hours(
        SetHours(
            coach,
            gym.id,
            [{"day": d, "start": "06:30", "end": "21:30"} for d in (*WEEKDAYS, "sat")],
        )
    )
    app.create_service(
        CreateService(
            coach, gym.id, ServiceTerms("Group yoga", 60, Money.of(Decimal("500"), "INR"), seats=8)
        )
    )
    business = app.load(Business, salon.id, BusinessNotFound)
    service = app.load(Service, cut.id, ServiceNotFound)
    today = app.clock().astimezone(business.calendar().timezone).date()
    starts = list(
        candidate_starts(
            business.calendar(),
            service.shape(),
            today + timedelta(days=2),
            today + timedelta(days=9),
        )
    )
    for n, start in enumerate(starts[::7][:6]):
        app.place_booking(
            PlaceBooking(Actor(f"customer-{n}", Role.CUSTOMER), cut.id, start, notes="demo booking")
        )
    load_resource_demo(app, owner)
    return True
