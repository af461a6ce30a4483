"""Demo businesses with bookable resources: a barber shop with three barbers, a clinic with
rooms (`slotwise dev --demo`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from commands.app import SlotWise
from commands.messages import AddResource, CreateService, RegisterBusiness, SetHours
from domain.actor import Actor
from domain.resource_profile import ResourceProfile
from domain.service import ServiceTerms
from domain.values import Money

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def load_resource_demo(app: SlotWise, owner: Actor) -> None:
    """A salon with three barbers ("any barber" or one by name) and a clinic whose
    treatments need a therapist and a room."""
    hours = [{"day": d, "start": "09:00", "end": "18:00"} for d in WEEKDAYS]
    shop = app.register_business(
        RegisterBusiness(owner, "Barbers of Mitte", "barbers-mitte", "Europe/Berlin")
    ).id
    app.set_hours(SetHours(owner, shop, hours))
    for name in ("Joe", "Kim", "Lee"):
        app.handle(AddResource(owner, shop, ResourceProfile(name, "staff", "barber")))
    fade = ServiceTerms(
        "Fade", 30, Money.of(Decimal("25.00"), "EUR"), requires={"category": "barber"}
    )
    app.create_service(CreateService(owner, shop, fade))

    clinic = app.register_business(
        RegisterBusiness(owner, "Physio Nord", "physio-nord", "Europe/Berlin")
    ).id
    app.set_hours(SetHours(owner, clinic, hours))
    resources: list[tuple[str, str, str, dict[str, Any]]] = [
        ("Dr. Ana", "staff", "therapist", {}),
        ("Dr. Ben", "staff", "therapist", {}),
        ("Room 1", "room", "room", {"floor": 1}),
        ("Room 2", "room", "room", {"floor": 2, "accessible": True}),
    ]
    for name, kind, category, metadata in resources:
        app.handle(AddResource(owner, clinic, ResourceProfile(name, kind, category, metadata)))
    massage = ServiceTerms(
        "Massage",
        60,
        Money.of(Decimal("70.00"), "EUR"),
        buffer_after_minutes=15,
        requires={"category": "therapist"},
        also_requires=("room",),
    )
    app.create_service(CreateService(owner, clinic, massage))
