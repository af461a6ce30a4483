"""The demo data has a barber shop with three barbers and a clinic with rooms."""

from __future__ import annotations

from commands.app import SlotWise
from domain.business import Business, SlugIndex
from infra.demo_resources import load_resource_demo

from .builders import OWNER


def test_the_demo_has_three_barbers_and_a_clinic_with_rooms(app: SlotWise) -> None:
    load_resource_demo(app, OWNER)

    def resources(slug: str) -> list[tuple[str, str]]:
        index = app.repository.get(SlugIndex.create_id(slug))
        business: Business = app.repository.get(index.business_id)
        return [(r["name"], r["category"]) for r in business.resource_list()]

    assert [c for _, c in resources("barbers-mitte")] == ["barber"] * 3
    assert {c for _, c in resources("physio-nord")} == {"therapist", "room"}
