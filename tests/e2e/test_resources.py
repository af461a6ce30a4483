"""The resources API.md promises, over HTTP: profile, closures with ids, reactivation, my
businesses, whole and partial policy, command answers with their fields and Location."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import (
    ANN,
    MONDAY,
    OTHER_OWNER,
    OWNER,
    Api,
    Salon,
    assert_names,
    assert_problem,
    local,
)

CLOSURE = {"start": "2027-03-08T00:00:00+01:00", "end": "2027-03-09T00:00:00+01:00"}


def business_path(salon: Salon, rest: str = "") -> str:
    return f"/v1/businesses/{salon.business_id}{rest}"


def test_a_profile_patch_changes_only_what_it_names(api: Api, salon: Salon) -> None:
    response = api.command("PATCH", business_path(salon), OWNER, "owner", {"name": "Nord"}, 200)

    answer = response.json()
    assert answer["name"] == "Nord" and answer["slug"] == "salon"
    assert answer["timezone"] == "Europe/Berlin" and answer["capacity"] == 1
    assert answer["affected_bookings"] == []
    profile = api.query(business_path(salon), consistency=answer["consistency_token"]).json()
    assert (profile["name"], profile["timezone"]) == ("Nord", "Europe/Berlin")


@pytest.mark.shared_stack
@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({}, "name"),
        ({"keep_bookings": True}, "name"),
        ({"capacity": "2"}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"capacity": 0}, "capacity"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"name": None}, "name"),
        ({"name": "\ufeff"}, "name"),
        ({"slug": "new-slug"}, "slug"),
        ({"name": "Nord", "keep_bookings": "yes"}, "keep_bookings"),
    ],
)
def test_a_bad_profile_patch_names_the_field_and_appends_nothing(
    api: Api, salon: Salon, body: dict[str, Any], name: str
) -> None:
    before = api.events()

    response = api.command("PATCH", business_path(salon), OWNER, "owner", body)

    assert_names(assert_problem(response, 422), name)
    assert api.events() == before


@pytest.mark.shared_stack
@pytest.mark.parametrize(
    ("sub", "path_of", "status"),
    [
        (OTHER_OWNER, business_path, 403),
        (OWNER, lambda s: "/v1/businesses/7c1d7f4e-9f2a-4d55-8e2c-0d3c5b6a7e81", 404),
    ],
)
def test_a_profile_patch_of_another_or_no_business_appends_nothing(
    api: Api, salon: Salon, sub: str, path_of: Any, status: int
) -> None:
    before = api.events()
    response = api.command("PATCH", path_of(salon), sub, "owner", {"name": "Mine"})
    assert_problem(response, status)
    assert api.events() == before


def test_a_closure_has_an_id_a_location_and_can_be_removed(api: Api, salon: Salon) -> None:
    created = api.command(
        "POST", business_path(salon, "/closures"), OWNER, "owner", CLOSURE, expect=201
    )
    answer = created.json()
    closure_id = answer["closure_id"]
    token = answer["consistency_token"]

    assert created.headers["Location"] == business_path(salon, f"/closures/{closure_id}")
    one = api.query(created.headers["Location"], consistency=token).json()
    assert one["id"] == closure_id and one["reason"] == ""
    listed = api.query(business_path(salon, "/closures")).json()
    assert [c["id"] for c in listed["items"]] == [closure_id] and listed["next_cursor"] is None
    assert api.starts(salon.service_id, MONDAY) == []

    removed = api.command("DELETE", created.headers["Location"], OWNER, "owner", expect=200)
    again = api.command("DELETE", created.headers["Location"], OWNER, "owner")

    assert removed.json()["closure_id"] == closure_id
    assert_problem(again, 404, "closure-not-found")
    token = removed.json()["consistency_token"]
    api.query(created.headers["Location"], consistency=token, expect=404)
    assert len(api.starts(salon.service_id, MONDAY, consistency=token)) == 8


def test_closures_page_by_start_with_an_opaque_cursor(api: Api, salon: Salon) -> None:
    path = business_path(salon, "/closures")
    made = []
    for day in (12, 10, 11):
        body = {"start": f"2027-03-{day}T09:00:00+01:00", "end": f"2027-03-{day}T10:00:00+01:00"}
        made.append(api.command("POST", path, OWNER, "owner", body, expect=201).json())
    token = made[-1]["consistency_token"]

    first = api.query(path, consistency=token, params={"limit": 2}).json()
    second = api.query(path, params={"limit": 2, "cursor": first["next_cursor"]}).json()

    starts = [c["start"] for c in first["items"] + second["items"]]
    assert starts == sorted(starts) and len(starts) == 3
    assert second["next_cursor"] is None
    assert_problem(api.query(path, params={"cursor": "garbage"}, expect=None), 400)


def test_a_keyed_retry_of_a_closure_adds_no_second_closure(api: Api, salon: Salon) -> None:
    path = business_path(salon, "/closures")
    key = {"Idempotency-Key": "closure-1"}

    first = api.command("POST", path, OWNER, "owner", CLOSURE, 201, **key)
    events = api.events()
    again = api.command("POST", path, OWNER, "owner", CLOSURE, 201, **key)

    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert api.events() == events


@pytest.mark.shared_stack
@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({**CLOSURE, "keep_bookings": 1}, "keep_bookings"),
        ({**CLOSURE, "end": CLOSURE["start"]}, "end"),
        ({"start": CLOSURE["start"]}, "end"),
        ({**CLOSURE, "reason": "x" * 501}, "reason"),
    ],
)
def test_a_bad_closure_names_the_field_and_appends_nothing(
    api: Api, salon: Salon, body: dict[str, Any], name: str
) -> None:
    before = api.events()
    response = api.command("POST", business_path(salon, "/closures"), OWNER, "owner", body)
    assert_names(assert_problem(response, 422), name)
    assert api.events() == before


@pytest.mark.shared_stack
@pytest.mark.parametrize(
    ("closure_id", "status"),
    [("not-a-uuid", 422), ("7c1d7f4e-9f2a-4d55-8e2c-0d3c5b6a7e81", 404)],
)
def test_removing_an_unknown_closure_is_refused(
    api: Api, salon: Salon, closure_id: str, status: int
) -> None:
    before = api.events()
    path = business_path(salon, f"/closures/{closure_id}")
    assert_names(assert_problem(api.command("DELETE", path, OWNER, "owner"), status), "closure")
    assert api.events() == before


def test_a_closure_over_a_booking_is_a_409_listing_it_unless_kept(api: Api, salon: Salon) -> None:
    booking = api.book(salon.service_id, local(MONDAY, 10), expect=201).json()
    path = business_path(salon, "/closures")
    before = api.events()

    refused = api.command("POST", path, OWNER, "owner", CLOSURE)

    problem = assert_problem(refused, 409, "bookings-affected")
    assert [b["id"] for b in problem["affected_bookings"]] == [booking["id"]]
    assert problem["affected_bookings"][0]["status"] == "confirmed"
    assert_names(problem, "keep_bookings")
    assert api.events() == before

    kept = api.command("POST", path, OWNER, "owner", {**CLOSURE, "keep_bookings": True}, 201)
    assert [b["id"] for b in kept.json()["affected_bookings"]] == [booking["id"]]
    read = api.query(
        f"/v1/bookings/{booking['id']}", ANN, consistency=kept.json()["consistency_token"]
    )
    assert read.json()["status"] == "confirmed"


def test_hours_that_leave_a_booking_outside_are_a_409_unless_kept(api: Api, salon: Salon) -> None:
    booking = api.book(salon.service_id, local(MONDAY, 15), expect=201).json()
    path = business_path(salon, "/hours")
    mornings = {"weekly": [{"day": "mon", "start": "09:00", "end": "12:00"}]}

    refused = api.command("PUT", path, OWNER, "owner", mornings)
    kept = api.command("PUT", path, OWNER, "owner", {**mornings, "keep_bookings": True}, 200)

    problem = assert_problem(refused, 409, "bookings-affected")
    assert [b["id"] for b in problem["affected_bookings"]] == [booking["id"]]
    assert kept.json()["weekly"] == mornings["weekly"]
    assert [b["id"] for b in kept.json()["affected_bookings"]] == [booking["id"]]


def test_a_deactivated_service_can_be_reactivated(api: Api, salon: Salon) -> None:
    service = f"/v1/services/{salon.service_id}"
    api.command("POST", f"{service}/deactivate", OWNER, "owner", expect=200)

    answer = api.command("POST", f"{service}/reactivate", OWNER, "owner", expect=200).json()
    again = api.command("POST", f"{service}/reactivate", OWNER, "owner")

    assert answer["active"] is True and answer["name"] == "Cut (EUR)"
    assert_problem(again, 409, "service-active")
    read = api.query(service, consistency=answer["consistency_token"]).json()
    assert read["active"] is True
    assert api.starts(salon.service_id, MONDAY)


def test_reactivation_is_for_the_owner_of_a_known_service(api: Api, salon: Salon) -> None:
    before = api.events()
    service = f"/v1/services/{salon.service_id}/reactivate"
    assert_problem(api.command("POST", service, OTHER_OWNER, "owner"), 403)
    assert_problem(api.command("POST", service, ANN, "customer"), 403)
    missing = "/v1/services/7c1d7f4e-9f2a-4d55-8e2c-0d3c5b6a7e81/reactivate"
    assert_problem(api.command("POST", missing, OWNER, "owner"), 404, "service-not-found")
    assert api.events() == before


def test_my_businesses_are_the_ones_i_registered(api: Api, salon: Salon) -> None:
    other = api.open_salon(owner=OTHER_OWNER, slug="elsewhere")
    token = api.open_salon(slug="second").token

    mine = api.query("/v1/me/businesses", OWNER, "owner", consistency=token).json()
    theirs = api.query("/v1/me/businesses", OTHER_OWNER, "owner").json()
    page = api.query("/v1/me/businesses", OWNER, "owner", params={"limit": 1}).json()
    rest = api.query(
        "/v1/me/businesses", OWNER, "owner", params={"limit": 1, "cursor": page["next_cursor"]}
    ).json()

    assert sorted(b["slug"] for b in mine["items"]) == ["salon", "second"]
    assert [b["id"] for b in theirs["items"]] == [other.business_id]
    assert api.query("/v1/me/businesses", ANN, "customer").json()["items"] == []
    assert [b["id"] for b in page["items"] + rest["items"]] == [b["id"] for b in mine["items"]]
    assert_problem(api.query("/v1/me/businesses", expect=None), 401)


def test_put_policy_needs_every_field_while_patch_changes_some(api: Api, salon: Salon) -> None:
    path = business_path(salon, "/policy")
    before = api.events()

    partial = api.command("PUT", path, OWNER, "owner", {"min_notice_minutes": 30})
    problem = assert_problem(partial, 422)
    assert {e["field"] for e in problem["errors"]} == {
        "max_advance_days",
        "cancellation_deadline_hours",
        "requires_confirmation",
    }
    assert api.events() == before
    api.command("PATCH", path, OWNER, "owner", {"cancellation_deadline_hours": 24}, 200)

    answer = api.command("PATCH", path, OWNER, "owner", {"min_notice_minutes": 30}, 200).json()

    assert answer["policy"] == {
        "min_notice_minutes": 30,
        "max_advance_days": 365,
        "cancellation_deadline_hours": 24,
        "requires_confirmation": False,
    }
    assert_names(assert_problem(api.command("PATCH", path, OWNER, "owner", {}), 422), "send")
    nulled = api.command("PATCH", path, OWNER, "owner", {"max_advance_days": None})
    assert_names(assert_problem(nulled, 422), "max_advance_days")


def test_answers_carry_the_resources_fields_and_201s_their_location(api: Api) -> None:
    business = api.command(
        "POST",
        "/v1/businesses",
        OWNER,
        "owner",
        {"name": "Salon", "slug": "fields", "timezone": "Europe/Berlin"},
        expect=201,
    )
    assert business.json()["slug"] == "fields"
    assert business.headers["Location"] == f"/v1/businesses/{business.json()['id']}"
    weekly = [{"day": "mon", "start": "09:00", "end": "17:00"}]
    api.command("PUT", f"{business.headers['Location']}/hours", OWNER, "owner", {"weekly": weekly})
    service = api.add_service(business.json()["id"], OWNER)
    booking = api.book(service["id"], local(MONDAY, 10), expect=201, **{"Idempotency-Key": "b-1"})
    replayed = api.book(service["id"], local(MONDAY, 10), expect=201, **{"Idempotency-Key": "b-1"})
    cancelled = api.act(booking.json()["id"], "cancel", ANN, "customer", {"reason": "ill"})

    assert service["name"] == "Cut (EUR)" and service["active"] is True
    assert booking.json()["status"] == "confirmed"
    assert booking.json()["start"] == "2027-03-08T10:00:00+01:00"  # the business's offset
    assert booking.json()["end"] == "2027-03-08T11:00:00+01:00"
    assert replayed.json() == booking.json() and replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.headers["Location"] == f"/v1/bookings/{booking.json()['id']}"
    assert cancelled.json()["status"] == "cancelled"
    token = cancelled.json()["consistency_token"]
    for created in (business, booking):
        api.query(created.headers["Location"], ANN, consistency=token)
    api.query(f"/v1/services/{service['id']}", consistency=token)
