"""Idempotent retries and read-your-writes over HTTP."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from infra.idempotency import IdempotencyStore, command_keys
from infra.redis_keys import RedisIdempotencyStore
from read_api.consistency import AVAILABILITY
from tests.e2e.conftest import (
    ANN,
    BOB,
    MONDAY,
    OWNER,
    Api,
    Salon,
    assert_names,
    assert_problem,
    local,
)


def test_a_retried_booking_with_the_same_key_is_answered_again_and_booked_once(
    api: Api, salon: Salon
) -> None:
    key = {"Idempotency-Key": "book-ann-monday-10"}
    first = api.book(salon.service_id, local(MONDAY, 10), **key)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    after_first = api.events()

    retry = api.book(salon.service_id, local(MONDAY, 10), **key)

    assert retry.status_code == first.status_code, retry.text
    assert retry.content == first.content
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.headers["X-Consistency-Token"] == first.headers["X-Consistency-Token"]
    assert retry.headers["content-type"] == first.headers["content-type"]
    assert api.events() == after_first
    token = first.json()["consistency_token"]
    mine = api.query("/v1/me/bookings", ANN, consistency=token).json()["items"]
    assert [b["id"] for b in mine] == [first.json()["id"]]


def test_a_retried_cancel_answers_success_again_rather_than_an_illegal_transition(
    api: Api, salon: Salon
) -> None:
    booking = api.book(salon.service_id, local(MONDAY, 10), expect=201).json()["id"]
    key = {"Idempotency-Key": "cancel-1"}
    first = api.command("POST", f"/v1/bookings/{booking}/cancel", ANN, "customer", None, **key)
    assert first.status_code == 200, first.text
    before = api.events()

    retry = api.command("POST", f"/v1/bookings/{booking}/cancel", ANN, "customer", None, **key)

    assert (retry.status_code, retry.content) == (200, first.content)
    assert api.events() == before


def test_idempotency_keys_belong_to_the_caller(api: Api, salon: Salon) -> None:
    key = {"Idempotency-Key": "same-key"}
    ann = api.book(salon.service_id, local(MONDAY, 10), ANN, **key)
    bob = api.book(salon.service_id, local(MONDAY, 11), BOB, **key)
    assert (ann.status_code, bob.status_code) == (201, 201), bob.text
    assert "Idempotent-Replayed" not in bob.headers
    assert ann.json()["id"] != bob.json()["id"]


def test_the_same_key_with_a_different_body_is_refused_and_appends_nothing(
    api: Api, salon: Salon
) -> None:
    key = {"Idempotency-Key": "k-1"}
    api.book(salon.service_id, local(MONDAY, 10), expect=201, **key)
    before = api.events()

    other = api.book(salon.service_id, local(MONDAY, 11), **key)

    body = assert_problem(other, 422)
    assert "Idempotency-Key" in body["detail"] or any(
        e["field"] == "Idempotency-Key" for e in body.get("errors", [])
    )
    assert api.events() == before


@pytest.mark.parametrize("key", [b"k\x7fey", b"k\x85ey", b"x" * 256], ids=["DEL", "C1", "long"])
def test_an_unusable_key_is_refused_naming_the_header(api: Api, salon: Salon, key: bytes) -> None:
    before = api.events()
    body = {"service_id": salon.service_id, "start": local(MONDAY, 10).isoformat()}
    headers = {**api.auth(ANN, "customer"), "Idempotency-Key": key}
    answer = api.write.post("/v1/bookings", json=body, headers=headers)
    assert_names(assert_problem(answer, 422), "Idempotency-Key")
    assert api.events() == before


def test_a_retry_after_the_answer_expired_books_nothing_new(api: Api, salon: Salon) -> None:
    key = {"Idempotency-Key": "old-key"}
    first = api.book(salon.service_id, local(MONDAY, 10), expect=201, **key).json()
    store = api.container.idempotency
    if isinstance(store, RedisIdempotencyStore):  # the answer's TTL ran out: Redis dropped it
        assert store.client.delete(store.redis_key(ANN, key["Idempotency-Key"])) == 1
    else:
        assert isinstance(store, IdempotencyStore)
        with store.engine.begin() as conn:  # the answer's TTL ran out and it was pruned
            conn.execute(command_keys.update().values(expires_at=datetime.now(UTC)))
        assert store.prune() == 1
    before = api.events()

    again = api.book(salon.service_id, local(MONDAY, 10), **key)

    assert again.status_code == 201, again.text  # the same command, found in the log
    assert again.json()["id"] == first["id"]
    assert api.events() == before


def test_a_read_with_a_fresh_token_sees_the_write_it_names(api: Api, salon: Salon) -> None:
    for hour in (9, 10, 11, 12, 13):
        placed = api.book(salon.service_id, local(MONDAY, hour), expect=201)
        token = placed.headers["X-Consistency-Token"]
        seen = api.query(f"/v1/bookings/{placed.json()['id']}", ANN, consistency=token)
        assert seen.json()["status"] == "confirmed"
        assert local(MONDAY, hour) not in api.starts(salon.service_id, MONDAY, consistency=token)


@pytest.mark.settings(consistency_wait_seconds=0.2)
def test_a_token_the_projections_have_not_reached_gives_503_with_retry_after(
    api: Api, salon: Salon
) -> None:
    api.settle()  # caught up: the reads below wait 0.2 s at most
    api.stop_delivery()  # the read side stops receiving events
    placed = api.book(salon.service_id, local(MONDAY, 9), expect=201)
    path = f"/v1/bookings/{placed.json()['id']}"

    started = time.monotonic()
    response = api.query(path, ANN, consistency=placed.json()["consistency_token"], expect=None)
    waited = time.monotonic() - started

    assert_problem(response, 503)
    assert int(response.headers["Retry-After"]) >= 1
    assert 0.2 <= waited < 2.0
    business = f"/v1/businesses/{salon.business_id}"
    assert api.query(business, consistency=salon.token).json()["id"] == salon.business_id


def test_a_token_beyond_the_end_of_the_log_is_refused_at_once(api: Api, salon: Salon) -> None:
    future = str(api.events() + 1_000_000)
    path = f"/v1/businesses/{salon.business_id}"

    started = time.monotonic()
    response = api.query(path, consistency=future, expect=None)

    problem = assert_problem(response, 422)
    assert_names(problem, "X-Consistency-Token")
    assert time.monotonic() - started < 1.0


@pytest.mark.settings(consistency_wait_seconds=0.2)
def test_a_read_waits_only_for_the_projections_it_reads(api: Api, salon: Salon) -> None:
    api.settle()  # caught up: the reads below wait 0.2 s at most
    api.stop_delivery()
    placed = api.book(salon.service_id, local(MONDAY, 9), expect=201)
    token = placed.json()["consistency_token"]
    api.deliver_only(AVAILABILITY)

    assert local(MONDAY, 9) not in api.starts(salon.service_id, MONDAY, consistency=token)
    stats = api.query(
        f"/v1/businesses/{salon.business_id}/stats",
        OWNER,
        "owner",
        consistency=token,
        params={"from": MONDAY.isoformat(), "to": MONDAY.isoformat()},
        expect=None,
    )
    assert_problem(stats, 503)  # the stats projector has not seen the booking yet


def test_a_conflict_that_asks_for_a_retry_is_not_kept_as_the_keys_answer(
    api: Api, salon: Salon, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = {"Idempotency-Key": "busy-moment"}
    monkeypatch.setattr(type(api.container.app), "max_attempts", 0)  # every attempt loses
    lost = api.book(salon.service_id, local(MONDAY, 10), **key)
    assert_problem(lost, 409, "version-conflict")
    monkeypatch.undo()

    again = api.book(salon.service_id, local(MONDAY, 10), **key)

    assert again.status_code == 201, again.text
    assert "Idempotent-Replayed" not in again.headers


def test_booking_answers_give_times_in_the_business_offset_as_availability_does(
    api: Api, salon: Salon
) -> None:
    placed = api.book(salon.service_id, local(MONDAY, 10), expect=201)
    token = placed.headers["X-Consistency-Token"]
    params = {"from": MONDAY.isoformat(), "to": MONDAY.isoformat()}
    path = f"/v1/services/{salon.service_id}/availability"
    offered = api.query(path, params=params, consistency=token).json()["slots"][0]["start"]
    assert offered.endswith("+01:00")  # availability speaks the Berlin salon's offset ...
    assert placed.json()["start"] == "2027-03-08T10:00:00+01:00"  # ... and so does the booking
    read = api.query(f"/v1/bookings/{placed.json()['id']}", ANN, consistency=token).json()
    assert (read["start"], read["end"]) == (placed.json()["start"], placed.json()["end"])
