"""Contact and notes over HTTP: shown to the customer and the owner, never to another
customer, validated at the edge, exported, and erased for good."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.bootstrap import build_write_api
from infra.settings import Settings
from tests.e2e.conftest import (
    ANN,
    BOB,
    MONDAY,
    OTHER_OWNER,
    OWNER,
    Api,
    Salon,
    assert_names,
    assert_problem,
    local,
)
from write_api.app import create_app as create_write_app

CONTACT = {"name": "Ann Example", "email": "ann@example.com", "phone": "+4915112345678"}
NOTE = "please use the side entrance"


def book_with_contact(api: Api, salon: Salon, hour: int = 10) -> dict[str, Any]:
    body = {
        "service_id": salon.service_id,
        "start": local(MONDAY, hour).isoformat(),
        "notes": NOTE,
        "contact": {**CONTACT, "locale": "de-DE"},
    }
    answer: dict[str, Any] = api.command("POST", "/v1/bookings", ANN, "customer", body, 201).json()
    return answer


def test_customer_and_owner_see_it_then_everyone_sees_erased(api: Api, salon: Salon) -> None:
    booking = book_with_contact(api, salon)
    path, token = f"/v1/bookings/{booking['id']}", booking["consistency_token"]

    mine = api.query(path, ANN, consistency=token).json()
    theirs = api.query(path, OWNER, "owner", consistency=token).json()
    for shown in (mine, theirs):
        assert shown["personal_data"] == "present" and shown["notes"] == NOTE
        assert shown["contact"] == {**CONTACT, "locale": "de-DE"}
    api.query(path, BOB, consistency=token, expect=404)
    api.query(path, OTHER_OWNER, "owner", consistency=token, expect=404)
    exported = api.query("/v1/me/export", ANN, consistency=token).json()
    assert [b["notes"] for b in exported["bookings"]] == [NOTE]
    assert api.query("/v1/me/export", BOB, consistency=token).json()["bookings"] == []

    erased = api.command("DELETE", f"/v1/customers/{ANN}/personal-data", ANN, "customer")
    assert erased.status_code == 200, erased.text
    assert erased.json()["personal_data"] == "erased" and erased.json()["bookings"] == 1
    token = erased.json()["consistency_token"]

    for sub, role in ((ANN, "customer"), (OWNER, "owner")):
        shown = api.query(path, sub, role, consistency=token).json()
        assert shown["personal_data"] == "erased"
        assert shown["notes"] is None and shown["contact"] is None
        assert shown["status"] == mine["status"] and shown["start"] == mine["start"]
    listed = api.query(f"/v1/businesses/{salon.business_id}/bookings", OWNER, "owner").json()
    assert [b["personal_data"] for b in listed["items"]] == ["erased"]


def test_the_write_api_role_on_its_own_answers_an_erasure_with_the_reads_count(
    api: Api, salon: Salon, settings: Settings
) -> None:
    booking = book_with_contact(api, salon)
    api.query(f"/v1/bookings/{booking['id']}", ANN, consistency=booking["consistency_token"])
    role = build_write_api(settings)  # as `slotwise write-api` builds it: no read models
    try:
        with TestClient(create_write_app(role), raise_server_exceptions=False) as write:
            path = f"/v1/customers/{ANN}/personal-data"
            erased = write.delete(path, headers=api.auth(ANN, "customer"))
    finally:
        role.close()

    assert erased.status_code == 200, erased.text
    assert erased.json()["bookings"] == 1


def test_only_the_customer_or_an_admin_may_erase(api: Api, salon: Salon) -> None:
    book_with_contact(api, salon)
    path = f"/v1/customers/{ANN}/personal-data"
    assert_problem(api.command("DELETE", path, BOB, "customer"), 403)
    assert_problem(api.command("DELETE", path, OWNER, "owner"), 403)
    assert api.command("DELETE", path, "root", "admin").status_code == 200


@pytest.mark.parametrize(
    ("contact", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"phone": "0151 1234567"}, "phone"),
        ({"locale": "german!"}, "locale"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"fax": "+4930123"}, "fax"),
    ],
)
@pytest.mark.parametrize("backend", ["sqlite"])
def test_bad_contact_fields_are_422_naming_the_field(
    api: Api, salon: Salon, contact: dict[str, Any], field: str
) -> None:
    body = {"service_id": salon.service_id, "start": local(MONDAY, 10).isoformat()}
    answer = api.command("POST", "/v1/bookings", ANN, "customer", {**body, "contact": contact})
    assert_names(assert_problem(answer, 422), field)


REASON = "my divorce hearing moved to that morning"


def test_a_cancellation_reason_is_shown_to_customer_and_owner_then_reads_erased(
    api: Api, salon: Salon
) -> None:
    booking = book_with_contact(api, salon)
    path = f"/v1/bookings/{booking['id']}"
    cancelled = api.command("POST", f"{path}/cancel", ANN, "customer", {"reason": REASON}, 200)
    token = cancelled.json()["consistency_token"]

    for sub, role in ((ANN, "customer"), (OWNER, "owner")):
        shown = api.query(path, sub, role, consistency=token).json()
        assert shown["status"] == "cancelled" and shown["cancel_reason"] == REASON
    audited = api.query(
        f"/v1/businesses/{salon.business_id}/bookings", "auditor-1", "auditor", consistency=token
    ).json()
    assert [(b["cancel_reason"], b["personal_data"]) for b in audited["items"]] == [
        (None, "sealed")
    ]
    exported = api.query("/v1/me/export", ANN, consistency=token).json()
    assert [b["cancel_reason"] for b in exported["bookings"]] == [REASON]

    erased = api.command("DELETE", f"/v1/customers/{ANN}/personal-data", ANN, "customer")
    token = erased.json()["consistency_token"]

    for sub, role in ((ANN, "customer"), (OWNER, "owner")):
        shown = api.query(path, sub, role, consistency=token).json()
        assert shown["personal_data"] == "erased" and shown["cancel_reason"] is None
        assert shown["status"] == "cancelled"
