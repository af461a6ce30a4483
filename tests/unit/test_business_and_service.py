"""Command handlers for businesses and services on the in-memory store."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from commands.app import SlotWise
from commands.messages import (
    AddClosure,
    CreateService,
    DeactivateService,
    RegisterBusiness,
    SetHours,
    SetPolicy,
    UpdateService,
)
from domain.actor import Actor, Role
from domain.business import Business, SlugIndex, require_slug
from domain.errors import (
    BusinessNotFound,
    DuplicateSlug,
    InvalidClosure,
    InvalidHours,
    InvalidInput,
    InvalidMoney,
    InvalidService,
    InvalidTimezone,
    NotYourBusiness,
    RoleNotAllowed,
    ServiceInactive,
    StartNotOffered,
)
from domain.service import Service, ServiceTerms
from domain.values import BookingPolicy, Money

from .builders import (
    OWNER,
    RIVAL,
    book,
    customer,
    every_day,
    hours,
    new_york,
    open_salon,
    owner,
)


def register(app: SlotWise, by: Actor = OWNER, slug: str = "salon", **fields: Any) -> UUID:
    command = {"name": "Salon", "timezone": "America/New_York", **fields}
    return app.register_business(RegisterBusiness(by, slug=slug, **command)).id


def test_registers_a_business_that_replays_with_its_hours_and_policy(app: SlotWise) -> None:
    business_id, _ = open_salon(app, owner(), policy=BookingPolicy(min_notice_minutes=30))
    business: Business = app.repository.get(business_id)
    assert (business.owner_id, business.slug, business.timezone) == (
        "owner-1",
        "salon",
        "America/New_York",
    )
    assert business.weekly[0] == {"day": "mon", "start": "09:00", "end": "17:00"}
    assert business.policy["min_notice_minutes"] == 30


def test_refuses_a_slug_another_business_took(app: SlotWise) -> None:
    register(app)
    with pytest.raises(DuplicateSlug) as refused:
        register(app, RIVAL)
    assert refused.value.field == "slug"


def test_refuses_a_slug_claimed_between_the_check_and_the_save(
    app: SlotWise, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(app)
    real_lookup: Callable[..., Any] = app.load_or_none
    missed = False

    def late_lookup(cls: type, aggregate_id: UUID, **options: Any) -> Any:
        nonlocal missed  # the first look misses the claim, as a racing writer's would
        if cls is SlugIndex and not missed:
            missed = True
            return None
        return real_lookup(cls, aggregate_id, **options)

    monkeypatch.setattr(app, "load_or_none", late_lookup)
    with pytest.raises(DuplicateSlug):
        register(app, RIVAL)
    claim: SlugIndex = app.repository.get(SlugIndex.create_id("salon"))
    assert app.repository.get(claim.business_id).owner_id == "owner-1"


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.AUDITOR])
def test_lets_only_owners_and_admins_register_businesses(app: SlotWise, role: Role) -> None:
    with pytest.raises(RoleNotAllowed):
        register(app, Actor("someone", role))


def test_refuses_an_unknown_time_zone_and_leaves_the_slug_free(app: SlotWise) -> None:
    with pytest.raises(InvalidTimezone) as refused:
        register(app, timezone="Europe/Atlantis")
    assert refused.value.field == "timezone"
    register(app)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"slug": "Salon!"}, "slug"),
        ({"slug": "-salon"}, "slug"),
        ({"name": "  "}, "name"),
        ({"capacity": 0}, "capacity"),
    ],
)
def test_refuses_impossible_business_details_naming_the_field(
    app: SlotWise, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        register(app, **{"slug": "salon", **fields})
    assert refused.value.field == field


def test_refuses_a_slug_with_a_trailing_newline() -> None:
    with pytest.raises(InvalidInput):
        require_slug("salon\n")


def test_refuses_a_capacity_too_large_to_store(app: SlotWise) -> None:
    with pytest.raises(InvalidInput) as refused:
        register(app, capacity=2**64)
    assert refused.value.field == "capacity"


@pytest.mark.parametrize(
    ("weekly", "field"),
    [
        (hours(("mon", "09:00", "25:00")), "weekly[0].end"),
        (hours(("mon", "17:00", "09:00")), "weekly[0].end"),
        (hours(("mon", "9am", "17:00")), "weekly[0].start"),
        (hours(("mon", "09:00", "12:00"), ("mon", "11:00", "13:00")), "weekly"),
    ],
)
def test_refuses_impossible_opening_hours_naming_the_field(
    app: SlotWise, weekly: list[dict[str, str]], field: str
) -> None:
    business_id = register(app)
    with pytest.raises(InvalidHours) as refused:
        app.set_hours(SetHours(owner(), business_id, weekly))
    assert refused.value.field == field


def test_refuses_a_naive_closure_time(app: SlotWise) -> None:
    business_id = register(app)
    with pytest.raises(InvalidInput) as refused:
        app.add_closure(
            AddClosure(owner(), business_id, new_york(2, 9).replace(tzinfo=None), new_york(2, 12))
        )
    assert refused.value.field == "start"


def test_refuses_a_closure_that_ends_before_it_starts(app: SlotWise) -> None:
    business_id = register(app)
    with pytest.raises(InvalidClosure) as refused:
        app.add_closure(AddClosure(owner(), business_id, new_york(2, 12), new_york(2, 9)))
    assert refused.value.field == "end"


def test_takes_no_bookings_during_a_closure(app: SlotWise) -> None:
    business_id, service_id = open_salon(app, owner())
    app.add_closure(AddClosure(owner(), business_id, new_york(2, 9), new_york(2, 12), "training"))
    with pytest.raises(StartNotOffered):
        book(app, customer(), service_id, new_york(2, 10))
    book(app, customer(), service_id, new_york(2, 12))


ACTS_ON_A_BUSINESS: dict[str, Callable[[SlotWise, Actor, UUID, UUID], Any]] = {
    "set hours": lambda app, by, b, s: app.set_hours(SetHours(by, b, every_day("08:00", "12:00"))),
    "add closure": lambda app, by, b, s: app.add_closure(
        AddClosure(by, b, new_york(2, 9), new_york(2, 10))
    ),
    "set policy": lambda app, by, b, s: app.set_policy(SetPolicy(by, b, BookingPolicy())),
    "create service": lambda app, by, b, s: app.create_service(
        CreateService(by, b, ServiceTerms("Shave", 30, Money.of("15", "USD")))
    ),
    "update service": lambda app, by, b, s: app.update_service(
        UpdateService(by, s, {"name": "Buzz cut"})
    ),
    "deactivate service": lambda app, by, b, s: app.deactivate_service(DeactivateService(by, s)),
}


@pytest.mark.parametrize("act", list(ACTS_ON_A_BUSINESS))
def test_refuses_the_owner_of_another_business(app: SlotWise, act: str) -> None:
    business_id, service_id = open_salon(app, owner())
    open_salon(app, RIVAL, slug="rival")
    with pytest.raises(NotYourBusiness):
        ACTS_ON_A_BUSINESS[act](app, RIVAL, business_id, service_id)


@pytest.mark.parametrize("act", list(ACTS_ON_A_BUSINESS))
def test_refuses_customers_and_auditors_managing_a_business(app: SlotWise, act: str) -> None:
    business_id, service_id = open_salon(app, owner())
    for outsider in (customer(), Actor("auditor-1", Role.AUDITOR)):
        with pytest.raises(RoleNotAllowed):
            ACTS_ON_A_BUSINESS[act](app, outsider, business_id, service_id)


@pytest.mark.parametrize("act", list(ACTS_ON_A_BUSINESS))
def test_lets_an_admin_manage_any_business(app: SlotWise, act: str) -> None:
    business_id, service_id = open_salon(app, owner())
    ACTS_ON_A_BUSINESS[act](app, Actor("admin-1", Role.ADMIN), business_id, service_id)


def test_reports_an_unknown_business(app: SlotWise) -> None:
    _, service_id = open_salon(app, owner())
    with pytest.raises(BusinessNotFound):
        app.set_hours(SetHours(owner(), service_id, every_day("09:00", "17:00")))


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"seats": 0}, "seats"),
        ({"buffer_after_minutes": -5}, "buffer_after_minutes"),
        ({"name": ""}, "name"),
        ({"slot_interval_minutes": 1441}, "slot_interval_minutes"),
    ],
)
def test_refuses_impossible_service_terms_naming_the_field(
    fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidService) as refused:
        ServiceTerms(
            **{"name": "Cut", "duration_minutes": 60, "price": Money.of("1", "USD"), **fields}
        )
    assert refused.value.field == field


def test_steps_slots_by_the_duration_unless_told_otherwise(app: SlotWise) -> None:
    _, service_id = open_salon(app, owner(), duration=45)
    assert app.repository.get(service_id).shape().interval.total_seconds() == 45 * 60


def test_updates_a_service_price_from_its_wire_shape(app: SlotWise) -> None:
    _, service_id = open_salon(app, owner())
    app.update_service(
        UpdateService(owner(), service_id, {"price": {"amount": "35.5", "currency": "USD"}})
    )
    service: Service = app.repository.get(service_id)
    assert (service.price_amount, service.currency) == (Decimal("35.50"), "USD")


def test_refuses_a_negative_price_on_update(app: SlotWise) -> None:
    _, service_id = open_salon(app, owner())
    with pytest.raises(InvalidMoney) as refused:
        app.update_service(
            UpdateService(owner(), service_id, {"price": {"amount": "-1", "currency": "USD"}})
        )
    assert refused.value.field == "price.amount"


def test_refuses_updating_a_field_a_service_does_not_have(app: SlotWise) -> None:
    _, service_id = open_salon(app, owner())
    with pytest.raises(InvalidService) as refused:
        app.update_service(UpdateService(owner(), service_id, {"colour": "blue"}))
    assert refused.value.field == "colour"


def test_never_silently_ignores_a_price_change(app: SlotWise) -> None:
    _, service_id = open_salon(app, owner())
    try:
        app.update_service(UpdateService(owner(), service_id, {"price": "45.00"}))
    except InvalidInput as refused:
        assert (refused.field or "").startswith("price")
    else:
        assert app.repository.get(service_id).price_amount == Decimal("45.00")


def test_refuses_a_price_without_a_currency_naming_the_field(app: SlotWise) -> None:
    _, service_id = open_salon(app, owner())
    with pytest.raises(InvalidInput) as refused:
        app.update_service(UpdateService(owner(), service_id, {"price": {"amount": "5"}}))
    assert (refused.value.field or "").startswith("price")


def test_stops_taking_bookings_for_a_deactivated_service(app: SlotWise) -> None:
    _, service_id = open_salon(app, owner())
    app.deactivate_service(DeactivateService(owner(), service_id))
    with pytest.raises(ServiceInactive):
        book(app, customer(), service_id, new_york(2, 9))
    with pytest.raises(ServiceInactive, match="already"):
        app.deactivate_service(DeactivateService(owner(), service_id))
