"""A keyed write's answer is kept in the transaction of its events (SQLite and PostgreSQL).

No write of the key's own follows the command: the answer row commits with the
events or not at all. A retry then hears the identical answer; a save whose key
another request answered first is undone and its caller hears that answer; and
simultaneous requests with one key through two write APIs on one PostgreSQL
store book once and all hear the same answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from commands.keeping import AnswerOffer, KeyAnswered, KeyedAnswer, offering
from commands.messages import CommandContext, PlaceBooking
from domain.actor import Actor, Role
from infra.bootstrap import Container, bootstrap
from infra.idempotency import IdempotencyStore, StoredResponse, command_id_for
from tests.conftest import settings_for
from tests.integration.crashing_server import Answer, placed_bookings
from tests.integration.test_idempotency_under_crashes import (
    MONDAY_TEN,
    keyed_booking,
    open_salon,
)
from write_api.app import create_app as create_write_app

REQUEST_START = MONDAY_TEN
guard = KeyedAnswer.guard


def keys_of(container: Container) -> IdempotencyStore:
    store = container.idempotency
    assert isinstance(store, IdempotencyStore) and store.folds  # the SQL store beside the events
    return store


def no_separate_write(store: IdempotencyStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: Any) -> None:
        raise AssertionError("the answer of a write was kept in a transaction of its own")

    monkeypatch.setattr(store, "complete", refused)


def test_a_keyed_booking_is_answered_again_identically_without_a_write_of_its_own(
    container: Container,
    write_client: TestClient,
    token: Callable[[str, str], dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keyed = keyed_booking(write_client, token, "owner-kept", "ann", "ann-kept-1")
    no_separate_write(keys_of(container), monkeypatch)

    # Given a keyed booking that committed
    first = keyed.post(write_client)
    assert first.status == 201, first
    log_end = container.app.recorder.max_notification_id()
    assert first.body["consistency_token"] == first.headers["x-consistency-token"] == str(log_end)

    # When the client retries the key
    monkeypatch.undo()
    again = keyed.post(write_client)

    # Then it hears the identical answer, marked as replayed, and nothing more was written
    assert (again.status, again.content) == (first.status, first.content)
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["x-consistency-token"] == first.headers["x-consistency-token"]
    assert again.headers.get("idempotent-replayed") == "true"
    assert len(placed_bookings(container.app, keyed.business_id)) == 1
    assert container.app.recorder.max_notification_id() == log_end


def test_a_save_whose_key_was_answered_first_is_undone_and_hears_that_answer(
    container: Container,
    write_client: TestClient,
    token: Callable[[str, str], dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keyed = keyed_booking(write_client, token, "owner-race", "bob", "bob-race-1")
    store = keys_of(container)
    log_end = container.app.recorder.max_notification_id()
    twin = StoredResponse(409, b'{"type": "twin"}', {"content-type": "application/json"})
    save = container.app.save

    # Given another request with the key answers it (a refusal: no events) while this
    # one's command runs, after this one read the key as unknown
    def twin_answers_first(*aggregates: Any, **kwargs: Any) -> Any:
        kept = kwargs["answer"]  # this save carries the key's answer
        assert store.complete(kept.scope, kept.key, twin, kept.fingerprint) is None
        return save(*aggregates, **kwargs)

    monkeypatch.setattr(container.app, "save", twin_answers_first)

    # When this request's save commits its events with its answer
    raced = keyed.post(write_client)

    # Then the save was undone, events and all, and the caller hears the answer kept first
    assert (raced.status, raced.content) == (409, b'{"type": "twin"}')
    assert raced.headers.get("idempotent-replayed") == "true"
    assert placed_bookings(container.app, keyed.business_id) == []
    assert container.app.recorder.max_notification_id() == log_end


def test_a_refusal_kept_for_a_key_stands_when_a_retry_could_now_book(
    container: Container,
    write_client: TestClient,
    token: Callable[[str, str], dict[str, str]],
) -> None:
    business_id, service_id = open_salon(write_client, token("owner-full", "owner"))
    request = {"service_id": service_id, "start": REQUEST_START}
    dan = token("dan", "customer")
    eve = {**token("eve", "customer"), "Idempotency-Key": "eve-full-1"}

    # Given eve's keyed booking was refused because dan holds the only seat
    held = write_client.post("/v1/bookings", json=request, headers=dan)
    assert held.status_code == 201, held.text
    refused = Answer.of(write_client.post("/v1/bookings", json=request, headers=eve))
    assert refused.status == 409, refused

    # When the seat frees and eve retries the key (the key is not read first: the save checks it)
    cancelled = write_client.post(f"/v1/bookings/{held.json()['id']}/cancel", headers=dan)
    assert cancelled.status_code == 200, cancelled.text
    again = Answer.of(write_client.post("/v1/bookings", json=request, headers=eve))

    # Then she hears the refusal again, and no booking of hers was written
    assert (again.status, again.content) == (refused.status, refused.content)
    assert again.headers.get("idempotent-replayed") == "true"
    assert [p.customer_id for p in placed_bookings(container.app, business_id)] == ["dan"]


def test_a_save_whose_answer_waits_for_it_still_fails_if_the_key_was_answered(
    container: Container,
    write_client: TestClient,
    token: Callable[[str, str], dict[str, str]],
) -> None:
    business_id, service_id = open_salon(write_client, token("owner-guard", "owner"))
    store = keys_of(container)
    context = CommandContext.replayable_as(command_id_for("fay", "fay-1"), "corr")
    start = datetime.fromisoformat(REQUEST_START)
    command = PlaceBooking(Actor("fay", Role.CUSTOMER), UUID(service_id), start, context=context)

    # Given the key was answered, and a save that carries only a guard (its answer is told
    # after it: a follow-up that writes, or a `then`)
    answered = StoredResponse(409, b"{}", {})
    assert store.complete("fay", "fay-1", answered, "fp") is None
    offer = AnswerOffer(context.causation_id, lambda done, primary: None, guard("fay", "fay-1"))

    # When the command saves
    with offering(offer), pytest.raises(KeyAnswered):
        container.app.handle(command)

    # Then nothing was written
    assert placed_bookings(container.app, business_id) == []


def test_a_keyed_answer_about_something_inside_an_aggregate_names_it(
    container: Container,
    write_client: TestClient,
    token: Callable[[str, str], dict[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner = token("owner-joe", "owner")
    business_id, _ = open_salon(write_client, owner)
    headers = {**owner, "Idempotency-Key": "add-joe-1"}
    body = {"name": "Joe", "kind": "staff", "category": "barber"}
    path = f"/v1/businesses/{business_id}/resources"

    # Given a keyed resource added to a business (the business aggregate is what is saved)
    first = Answer.of(write_client.post(path, json=body, headers=headers))
    again = Answer.of(write_client.post(path, json=body, headers=headers))

    # Then the kept answer names the resource, not the business, and is given again
    assert first.status == 201, first
    assert first.body["id"] != business_id
    assert first.headers["location"] == f"/v1/resources/{first.body['id']}"
    assert (again.status, again.content) == (first.status, first.content)
    assert again.headers["location"] == first.headers["location"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


# --------------------------------------------------------------------------- concurrency

WRITERS = 8  # simultaneous requests with one key


@pytest.fixture
def two_writers(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[list[TestClient], Container]]:
    """Two write APIs, each its own pools, cache and group-commit queue, on one PostgreSQL."""
    settings = settings_for("postgres", tmp_path, request)
    containers = [bootstrap(settings), bootstrap(settings)]
    try:
        with ExitStack() as stack:
            clients = [stack.enter_context(TestClient(create_write_app(c))) for c in containers]
            yield clients, containers[0]
    finally:
        for built in containers:
            built.close()


@pytest.mark.postgres
def test_simultaneous_requests_with_one_key_on_two_write_apis_book_once_and_agree(
    two_writers: tuple[list[TestClient], Container], token: Callable[[str, str], dict[str, str]]
) -> None:
    clients, container = two_writers
    keyed = keyed_booking(clients[0], token, "owner-twins", "cem", "cem-twins-1")
    start = threading.Barrier(WRITERS)

    def send(n: int) -> Answer:
        start.wait()
        return keyed.post(clients[n % 2])

    # Given WRITERS requests with one key, at once, half through each write API
    with ThreadPoolExecutor(WRITERS) as pool:
        answers = list(pool.map(send, range(WRITERS)))

    # Then the booking was written once, and every request heard the same answer
    (placed,) = placed_bookings(container.app, keyed.business_id)
    assert {(a.status, a.content, a.headers["location"]) for a in answers} == {
        (201, answers[0].content, f"/v1/bookings/{placed.booking_id}")
    }, answers
