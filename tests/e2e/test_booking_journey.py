"""The booking journey over HTTP: from an empty store to a booked, cancelled, moved slot."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient

from tests.e2e.conftest import ANN, MONDAY, OWNER, TUESDAY, Api, Salon, local


def test_a_customer_books_a_public_slot_and_cancelling_gives_it_back(api: Api) -> None:
    registered = api.command(
        "POST",
        "/v1/businesses",
        OWNER,
        "owner",
        {"name": "Studio Nord", "slug": "studio-nord", "timezone": "Europe/Berlin"},
    )
    assert registered.status_code == 201, registered.text
    business = registered.json()
    assert business["version"] >= 1
    assert registered.headers["X-Consistency-Token"] == business["consistency_token"]
    weekly = [{"day": "mon", "start": "09:00", "end": "12:00"}]
    api.command("PUT", f"/v1/businesses/{business['id']}/hours", OWNER, "owner", {"weekly": weekly})
    service = api.add_service(business["id"], OWNER)

    offered = api.starts(service["id"], MONDAY, consistency=service["consistency_token"])
    assert offered == [local(MONDAY, 9), local(MONDAY, 10), local(MONDAY, 11)]

    booked = api.book(service["id"], local(MONDAY, 10))
    assert booked.status_code == 201, booked.text
    booking = booked.json()
    assert booked.headers["X-Consistency-Token"] == booking["consistency_token"]
    after_booking = api.starts(service["id"], MONDAY, consistency=booking["consistency_token"])
    assert after_booking == [local(MONDAY, 9), local(MONDAY, 11)]

    cancelled = api.act(booking["id"], "cancel", ANN, "customer", {"reason": "ill"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["version"] > booking["version"]
    token = cancelled.headers["X-Consistency-Token"]
    assert api.starts(service["id"], MONDAY, consistency=token) == offered


def test_the_catalogue_shows_the_business_and_its_service_to_anyone(api: Api, salon: Salon) -> None:
    profile = api.query(f"/v1/businesses/{salon.business_id}", consistency=salon.token).json()
    assert profile["slug"] == "salon"
    assert profile["timezone"] == "Europe/Berlin"
    assert "owner_id" not in profile
    by_slug = api.query("/v1/businesses/by-slug/salon", consistency=salon.token).json()
    assert by_slug["id"] == salon.business_id
    services = api.query(
        f"/v1/businesses/{salon.business_id}/services", consistency=salon.token
    ).json()
    assert [s["id"] for s in services] == [salon.service_id]
    assert services[0]["price"] == {"amount": "30.00", "currency": "EUR"}


def test_availability_slots_carry_the_business_offset_and_seats_left(
    api: Api, salon: Salon
) -> None:
    params = {"from": MONDAY.isoformat(), "to": TUESDAY.isoformat()}
    body = api.query(
        f"/v1/services/{salon.service_id}/availability", consistency=salon.token, params=params
    ).json()
    assert body["timezone"] == "Europe/Berlin"
    assert len(body["slots"]) == 16  # 8 hourly slots on each of two days
    first = body["slots"][0]
    assert first["start"].endswith("+01:00")
    assert datetime.fromisoformat(first["start"]) == local(MONDAY, 9)
    assert datetime.fromisoformat(first["end"]) == local(MONDAY, 10)
    assert first["seats_left"] == 1


def test_a_taken_slot_is_refused_to_the_next_customer_with_a_conflict(
    api: Api, salon: Salon
) -> None:
    api.book(salon.service_id, local(MONDAY, 10), expect=201)
    before = api.events()
    second = api.book(salon.service_id, local(MONDAY, 10), customer="bob")
    assert second.status_code == 409, second.text
    assert second.json()["type"].endswith("slot-unavailable")
    assert api.events() == before


def test_rescheduling_frees_the_old_slot_and_takes_the_new_one(api: Api, salon: Salon) -> None:
    booking = api.book(salon.service_id, local(MONDAY, 10), expect=201).json()

    moved = api.act(booking["id"], "reschedule", ANN, "customer", {"start": "2027-03-08T14:00Z"})

    assert moved.status_code == 200, moved.text
    token = moved.json()["consistency_token"]
    offered = api.starts(salon.service_id, MONDAY, consistency=token)
    assert local(MONDAY, 10) in offered
    assert local(MONDAY, 15) not in offered  # 14:00Z is 15:00 in Berlin
    view = api.query(f"/v1/bookings/{booking['id']}", ANN, consistency=token).json()
    assert datetime.fromisoformat(view["start"]) == local(MONDAY, 15)
    assert view["status"] == "confirmed"


def test_both_apps_answer_health_readiness_and_openapi(
    write_client: TestClient, read_client: TestClient
) -> None:
    for client in (write_client, read_client):
        assert client.get("/health").json() == {"status": "ok"}
        ready = client.get("/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "ready"
        assert set(ready.json()["checks"].values()) == {"ok"}
        schema = client.get("/openapi.json")
        assert schema.status_code == 200
        assert schema.json()["openapi"].startswith("3.")
    assert "/v1/bookings" in write_client.get("/openapi.json").json()["paths"]
    read_paths = read_client.get("/openapi.json").json()["paths"]
    assert "/v1/services/{service_id}/availability" in read_paths
