"""The waitlist over HTTP: join a full start, get the freed seat as a hold, accept or let it go.

The waitlist process manager runs in the stack's own worker thread (as `slotwise
dev` runs it) with the test's clock: an offer runs out when the test moves the
clock past it, never by waiting minutes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.conftest import FrozenClock
from tests.e2e.conftest import ANN, BOB, MONDAY, OWNER, Api, Salon, assert_problem, local

CAROL, DAN = "carol", "dan"
TEN = local(MONDAY, 10)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """The embedded stacks; the first journey runs on the production stack too (below)."""
    return str(request.param)


@pytest.fixture(autouse=True)
def waitlist_worker(api: Api) -> None:
    """Offers are made by the process manager (started here on the Kafka stack too, where
    `slotwise waitlist` is a role of its own)."""
    api.container.start_waitlist_worker()


def join(api: Api, service_id: str, who: str, start: datetime = TEN, **body: Any) -> Any:
    path = f"/v1/services/{service_id}/waitlist"
    return api.command("POST", path, who, "customer", {"start": start.isoformat(), **body})


def my_waitlist(api: Api, who: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.query("/v1/me/waitlist", who).json()["items"]
    return items


def eventually(check: Callable[[], Any], what: str, seconds: float = 15.0) -> Any:
    """Poll until `check` answers something truthy (the worker runs in its own thread)."""
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)
    return found


def status_of(api: Api, who: str, entry_id: str, status: str) -> dict[str, Any] | None:
    api.settle()
    return next(
        (e for e in my_waitlist(api, who) if e["id"] == entry_id and e["status"] == status), None
    )


def slot_at(api: Api, service_id: str, start: datetime) -> dict[str, Any] | None:
    params = {"from": MONDAY.isoformat(), "to": MONDAY.isoformat()}
    slots = api.query(f"/v1/services/{service_id}/availability", params=params).json()["slots"]
    return next((s for s in slots if s["start"] == start.isoformat()), None)


@pytest.mark.parametrize("backend", ["sqlite", "postgres", "kafka"], indirect=True)
def test_a_freed_seat_is_offered_as_a_hold_and_accepted_into_a_booking(
    api: Api, salon: Salon
) -> None:
    anns = api.book(salon.service_id, TEN, ANN, expect=201).json()
    assert_problem(join(api, salon.service_id, BOB, local(MONDAY, 11)), 409, "slot-available")
    bobs = join(api, salon.service_id, BOB, contact={"name": "Bob", "email": "bob@example.com"})
    assert bobs.status_code == 201, bobs.text
    entry = bobs.json()
    assert (entry["status"], entry["start"]) == ("waiting", TEN.isoformat())
    again = assert_problem(join(api, salon.service_id, BOB), 409, "already-waiting")
    assert again["entry_id"] == entry["id"]
    carols = join(api, salon.service_id, CAROL).json()

    api.act(anns["id"], "cancel", ANN, "customer", {"reason": "ill"})
    offered = eventually(lambda: status_of(api, BOB, entry["id"], "offered"), "Bob's offer")
    expires = datetime.fromisoformat(offered["offer_expires_at"])
    assert expires - api.container.clock() == timedelta(minutes=15)
    assert slot_at(api, salon.service_id, TEN) is None  # held for Bob: others see it taken
    assert_problem(api.book(salon.service_id, TEN, DAN), 409, "slot-unavailable")
    assert_problem(
        api.command("POST", f"/v1/waitlist/{entry['id']}/accept", CAROL, "customer"),
        403,
        "not-your-waitlist-entry",
    )

    accepted = api.command("POST", f"/v1/waitlist/{entry['id']}/accept", BOB, "customer")
    assert accepted.status_code == 201, accepted.text
    booking = accepted.json()
    assert (booking["status"], booking["start"]) == ("confirmed", TEN.isoformat())
    assert accepted.headers["Location"] == f"/v1/bookings/{booking['id']}"
    read = api.query(f"/v1/bookings/{booking['id']}", BOB, consistency=booking["consistency_token"])
    assert read.json()["customer_id"] == BOB
    assert status_of(api, BOB, entry["id"], "accepted")["booking_id"] == booking["id"]  # type: ignore[index]
    assert status_of(api, CAROL, carols["id"], "waiting")


def test_a_declined_or_expired_offer_moves_to_the_next_and_then_frees_the_slot(
    api: Api, salon: Salon, clock: FrozenClock
) -> None:
    anns = api.book(salon.service_id, TEN, ANN, expect=201).json()
    bobs, carols = (join(api, salon.service_id, who).json()["id"] for who in (BOB, CAROL))
    api.act(anns["id"], "cancel", ANN, "customer", {"reason": "ill"})
    eventually(lambda: status_of(api, BOB, bobs, "offered"), "Bob's offer")

    declined = api.command("DELETE", f"/v1/waitlist/{bobs}", BOB, "customer")
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    eventually(lambda: status_of(api, CAROL, carols, "offered"), "Carol's offer")

    clock.now += timedelta(minutes=15)  # nobody answers: the offer's timer fires
    eventually(lambda: status_of(api, CAROL, carols, "expired"), "Carol's offer to run out")
    assert_problem(
        api.command("POST", f"/v1/waitlist/{carols}/accept", CAROL, "customer"),
        409,
        "illegal-transition",
    )
    free = eventually(lambda: slot_at(api, salon.service_id, TEN), "10:00 to be free again")
    assert free["seats_left"] == 1
    api.book(salon.service_id, TEN, DAN, expect=201)


def test_leaving_before_an_offer_and_the_owner_accepting_for_a_customer(
    api: Api, salon: Salon
) -> None:
    anns = api.book(salon.service_id, TEN, ANN, expect=201).json()
    bobs, carols = (join(api, salon.service_id, who).json()["id"] for who in (BOB, CAROL))
    left = api.command("DELETE", f"/v1/waitlist/{bobs}", BOB, "customer").json()
    assert left["status"] == "left"
    api.act(anns["id"], "cancel", OWNER, "owner", {"reason": "moved"})
    eventually(lambda: status_of(api, CAROL, carols, "offered"), "Carol's offer")
    accepted = api.command("POST", f"/v1/waitlist/{carols}/accept", OWNER, "owner")
    assert accepted.status_code == 201, accepted.text
    assert_problem(
        api.command("DELETE", f"/v1/waitlist/{carols}", CAROL, "customer"),
        409,
        "illegal-transition",
    )


def test_the_line_claims_a_freed_seat_even_before_the_offer_is_made(api: Api, salon: Salon) -> None:
    worker = api.container.waitlist_worker
    assert worker is not None
    worker.stop()  # the process manager is down: nobody makes the offer yet
    api.container.waitlist_worker = None
    anns = api.book(salon.service_id, TEN, ANN, expect=201).json()
    bobs = join(api, salon.service_id, BOB).json()["id"]
    api.act(anns["id"], "cancel", ANN, "customer", {"reason": "ill"})
    api.settle()
    assert slot_at(api, salon.service_id, TEN) is None  # Bob's, not the fastest booker's
    assert_problem(api.book(salon.service_id, TEN, DAN), 409, "slot-unavailable")
    assert status_of(api, BOB, bobs, "waiting")

    api.container.start_waitlist_worker()  # back: the claim becomes Bob's offer
    eventually(lambda: status_of(api, BOB, bobs, "offered"), "Bob's offer")
