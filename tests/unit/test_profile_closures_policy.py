"""Business profile changes, closures with ids, partial policy changes and service reactivation."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from commands.app import SlotWise
from commands.messages import (
    AddClosure,
    ChangePolicy,
    ChangeProfile,
    DeactivateService,
    ReactivateService,
    RemoveClosure,
)
from domain.business import Business
from domain.errors import (
    ClosureNotFound,
    InvalidInput,
    InvalidTimezone,
    NotYourBusiness,
    ServiceActive,
    StartNotOffered,
)

from .builders import ALICE, OWNER, RIVAL, book, new_york


def load(app: SlotWise, business_id: UUID) -> Business:
    business: Business = app.repository.get(business_id)
    return business


def test_a_profile_change_keeps_what_it_does_not_name(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    business_id, _ = salon

    done = app.handle(ChangeProfile(OWNER, business_id, name="  Salon Nord ", capacity=3))

    business = load(app, business_id)
    assert (business.name, business.capacity, business.timezone) == (
        "Salon Nord",
        3,
        "America/New_York",
    )
    assert done.fields == {
        "name": "Salon Nord",
        "slug": "salon",
        "timezone": "America/New_York",
        "capacity": 3,
        "address": None,
        "affected_bookings": [],
    }


def test_an_address_alone_records_only_the_address_and_blank_removes_it(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    business_id, _ = salon
    before = load(app, business_id).version
    done = app.handle(ChangeProfile(OWNER, business_id, address=" Hafenstraße 12\n20359 Hamburg "))
    business = load(app, business_id)
    assert business.address == "Hafenstraße 12\n20359 Hamburg" == done.fields["address"]
    assert business.version == before + 1  # no profile_changed beside it
    app.handle(ChangeProfile(OWNER, business_id, address="Hafenstraße 12\n20359 Hamburg"))
    assert load(app, business_id).version == before + 1  # unchanged: nothing recorded
    app.handle(ChangeProfile(OWNER, business_id, address="  "))
    assert load(app, business_id).address is None


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"name": "\u200b"}, InvalidInput, "name"),
        ({"timezone": "Mars/Olympus"}, InvalidTimezone, "timezone"),
        ({"capacity": 0}, InvalidInput, "capacity"),
        ({"capacity": 1001}, InvalidInput, "capacity"),
    ],
)
def test_a_bad_profile_change_names_the_field_and_changes_nothing(
    app: SlotWise, salon: tuple[UUID, UUID], change: dict[str, object], error: type, field: str
) -> None:
    business_id, _ = salon
    before = load(app, business_id).version

    with pytest.raises(error) as refused:
        app.handle(ChangeProfile(OWNER, business_id, **change))  # type: ignore[arg-type]

    assert refused.value.field == field
    assert load(app, business_id).version == before


def test_only_the_owner_changes_the_profile(app: SlotWise, salon: tuple[UUID, UUID]) -> None:
    with pytest.raises(NotYourBusiness):
        app.handle(ChangeProfile(RIVAL, salon[0], name="Mine now"))


def test_a_removed_closure_opens_its_time_again(app: SlotWise, salon: tuple[UUID, UUID]) -> None:
    business_id, service_id = salon
    closure = AddClosure(OWNER, business_id, new_york(2, 9), new_york(2, 12), "training")
    app.handle(closure)
    with pytest.raises(StartNotOffered):
        book(app, ALICE, service_id, new_york(2, 10))

    done = app.handle(RemoveClosure(OWNER, business_id, closure.closure_id()))

    assert done.fields == {"closure_id": str(closure.closure_id()), "closures_left": 0}
    assert load(app, business_id).closures == []
    assert book(app, ALICE, service_id, new_york(2, 10))


def test_each_closure_has_its_own_id_and_an_unknown_one_is_not_found(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    business_id, _ = salon
    for hour in (9, 13):
        app.handle(AddClosure(OWNER, business_id, new_york(2, hour), new_york(2, hour + 1)))
    ids = [c["id"] for c in load(app, business_id).closures]

    with pytest.raises(ClosureNotFound):
        app.handle(RemoveClosure(OWNER, business_id, uuid4()))

    assert len(set(ids)) == 2
    app.handle(RemoveClosure(OWNER, business_id, ids[0]))
    assert [c["id"] for c in load(app, business_id).closures] == ids[1:]


def test_a_partial_policy_change_keeps_the_other_fields(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    business_id, _ = salon
    app.handle(ChangePolicy(OWNER, business_id, {"cancellation_deadline_hours": 24}))

    done = app.handle(ChangePolicy(OWNER, business_id, {"min_notice_minutes": 60}))

    assert done.fields["policy"] == {
        "min_notice_minutes": 60,
        "max_advance_days": 365,
        "cancellation_deadline_hours": 24,
        "requires_confirmation": False,
    }


@pytest.mark.parametrize(
    "changes", [{"min_notice_minutes": -1}, {"max_advance_days": 4000}, {"colour": 1}]
)
def test_a_bad_partial_policy_change_names_the_field(
    app: SlotWise, salon: tuple[UUID, UUID], changes: dict[str, object]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        app.handle(ChangePolicy(OWNER, salon[0], changes))
    assert refused.value.field == next(iter(changes))


def test_a_reactivated_service_takes_bookings_again(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    _, service_id = salon
    app.handle(DeactivateService(OWNER, service_id))

    done = app.handle(ReactivateService(OWNER, service_id))

    assert done.fields["active"] is True
    assert book(app, ALICE, service_id, new_york(2, 10))
    with pytest.raises(ServiceActive):
        app.handle(ReactivateService(OWNER, service_id))
