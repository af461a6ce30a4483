"""The booking state machine over HTTP: legal moves answer 200, illegal ones a 409 problem."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tests.conftest import FrozenClock
from tests.e2e.conftest import ANN, BOB, MONDAY, OWNER, Api, Salon, assert_problem, local

CONFIRMING = {"requires_confirmation": True}


def status_of(api: Api, booking_id: str, response: httpx.Response) -> str:
    token = response.json()["consistency_token"]
    status: str = api.query(f"/v1/bookings/{booking_id}", ANN, consistency=token).json()["status"]
    return status


def refused(api: Api, booking_id: str, action: str, sub: str = OWNER, role: str = "owner") -> None:
    """`action` is an illegal transition: a 409 problem, and nothing is appended."""
    before = api.events()
    body = assert_problem(api.act(booking_id, action, sub, role), 409, "illegal-transition")
    assert body["detail"]
    assert api.events() == before


def test_a_pending_booking_is_confirmed_checked_in_and_completed_by_the_owner(api: Api) -> None:
    salon = api.open_salon(policy=CONFIRMING)
    placed = api.book(salon.service_id, local(MONDAY, 10), expect=201)
    booking = placed.json()["id"]
    assert status_of(api, booking, placed) == "pending"
    held = api.starts(salon.service_id, MONDAY, consistency=placed.json()["consistency_token"])
    assert local(MONDAY, 10) not in held  # a pending booking holds its slot

    confirmed = api.act(booking, "confirm", OWNER, "owner")
    assert confirmed.status_code == 200, confirmed.text
    assert status_of(api, booking, confirmed) == "confirmed"
    checked_in = api.act(booking, "check-in", OWNER, "owner")
    assert checked_in.status_code == 200, checked_in.text
    assert status_of(api, booking, checked_in) == "checked_in"
    completed = api.act(booking, "complete", OWNER, "owner")
    assert completed.status_code == 200, completed.text
    assert completed.json()["version"] == 4
    assert status_of(api, booking, completed) == "completed"


def test_confirming_twice_is_an_illegal_transition(api: Api) -> None:
    salon = api.open_salon(policy=CONFIRMING)
    booking = api.book(salon.service_id, local(MONDAY, 10), expect=201).json()["id"]
    assert api.act(booking, "confirm", OWNER, "owner").status_code == 200
    refused(api, booking, "confirm")


def test_completing_a_booking_that_was_never_checked_in_is_illegal(api: Api, salon: Salon) -> None:
    booking = api.book(salon.service_id, local(MONDAY, 10), expect=201).json()["id"]
    refused(api, booking, "complete")
    refused(api, booking, "confirm")  # already confirmed: the salon confirms at once


@pytest.mark.parametrize("action", ["confirm", "check-in", "complete", "no-show", "cancel"])
def test_a_cancelled_booking_moves_no_further(api: Api, salon: Salon, action: str) -> None:
    booking = api.book(salon.service_id, local(MONDAY, 10), expect=201).json()["id"]
    assert api.act(booking, "cancel", ANN, "customer").status_code == 200
    refused(api, booking, action)


def test_a_no_show_is_refused_before_the_start_and_accepted_after_it(
    api: Api, salon: Salon, clock: FrozenClock
) -> None:
    booking = api.book(salon.service_id, local(MONDAY, 10), expect=201).json()["id"]
    refused(api, booking, "no-show")

    clock.now = datetime(2027, 3, 8, 9, 30, tzinfo=UTC)
    marked = api.act(booking, "no-show", OWNER, "owner")
    assert marked.status_code == 200, marked.text
    assert status_of(api, booking, marked) == "no_show"
    refused(api, booking, "check-in")


def test_customers_may_not_move_their_booking_through_staff_steps(api: Api) -> None:
    salon = api.open_salon(policy=CONFIRMING)
    booking = api.book(salon.service_id, local(MONDAY, 10), expect=201).json()["id"]
    before = api.events()
    for action in ("confirm", "check-in", "complete", "no-show"):
        assert_problem(api.act(booking, action, ANN, "customer"), 403)
    assert api.events() == before


def test_past_the_cancellation_deadline_only_the_business_may_cancel(
    api: Api, clock: FrozenClock
) -> None:
    salon = api.open_salon(policy={"cancellation_deadline_hours": 24})
    booking = api.book(salon.service_id, local(MONDAY, 10), expect=201).json()["id"]
    clock.now = datetime(2027, 3, 7, 12, 0, tzinfo=UTC)  # 21 hours before the start
    before = api.events()

    late = api.act(booking, "cancel", ANN, "customer", {"reason": "late"})
    assert_problem(late, 409, "cancellation-deadline-passed")
    moved = api.act(booking, "reschedule", ANN, "customer", {"start": "2027-03-09T09:00Z"})
    assert_problem(moved, 409, "cancellation-deadline-passed")
    assert api.events() == before
    assert api.act(booking, "cancel", OWNER, "owner", {"reason": "we close"}).status_code == 200


def test_a_reschedule_onto_a_taken_slot_is_refused_and_keeps_the_old_one(
    api: Api, salon: Salon
) -> None:
    mine = api.book(salon.service_id, local(MONDAY, 10), expect=201).json()["id"]
    theirs = api.book(salon.service_id, local(MONDAY, 11), BOB, expect=201).json()
    before = api.events()

    clash = api.act(mine, "reschedule", ANN, "customer", {"start": local(MONDAY, 11).isoformat()})

    assert_problem(clash, 409, "slot-unavailable")
    assert api.events() == before
    offered = api.starts(salon.service_id, MONDAY, consistency=theirs["consistency_token"])
    assert local(MONDAY, 10) not in offered
    assert local(MONDAY, 11) not in offered
