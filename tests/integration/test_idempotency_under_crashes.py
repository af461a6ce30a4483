"""Idempotency keys survive crashes: every keyed booking ends with an answer that names it.

The first test runs a real write-API process on PostgreSQL and SIGKILLs it at
random moments while client threads place bookings, each under its own
Idempotency-Key. Every client behaves as a careful client should: when its
request is cut off it waits for the server to come back and retries the same
key, waiting out Retry-After when told the key is still in flight, until it has
a final answer. The event store is then read back: every booking in it is named
by exactly one key's answer, no answer names a booking that is not there, no
class is overbooked, and asking any key again gives the identical answer.

The second test makes the database fail mid-request after the booking was
written, on both stores: the key must answer again within the lease, with the
same booking, and the store must hold that booking once.
"""

from __future__ import annotations

import heapq
import math
import os
import random
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy.exc
from eventsourcing.persistence import OperationalError as EventStoreOperationalError
from fastapi.testclient import TestClient

from domain.actor import Role
from infra.auth import issue_token
from infra.bootstrap import Container
from infra.settings import Settings
from tests.conftest import JWT_SECRET, settings_for
from tests.integration.crashing_server import (
    Answer,
    CrashingServer,
    Placed,
    placed_bookings,
    read_store,
)
from tests.integration.test_concurrent_booking import WEEK

pytestmark = [pytest.mark.subprocess, pytest.mark.timeout(120)]

# The kill -9 run, sized so that every kill lands under load.
CLIENTS = 8
KEYS = 160
KILLS = 3
SEATS = 2  # a two-seat class at a capacity-1 business: two bookings per start, no more
DAYS, STARTS_PER_DAY = 4, 12  # 48 starts for 160 keys: 3-4 customers for each 2 seats
LEASE_SECONDS = 2.0
RUN_SECONDS = 45.0  # bound on the whole load, kills and retries included

# The in-process database-error test.
IN_PROCESS_LEASE_SECONDS = 1.0


# --------------------------------------------------------------------------- kill -9


@dataclass
class KeyedBooking:
    """One customer's booking under its own Idempotency-Key, and what the client heard."""

    key: str
    customer: str
    start: datetime
    interrupted_in: list[int] = field(default_factory=list)  # generations that cut it off
    in_flight_waits: int = 0
    final: Answer | None = None

    def headers(self) -> dict[str, str]:
        token = issue_token(JWT_SECRET, self.customer, Role.CUSTOMER)
        return {"Authorization": f"Bearer {token}", "Idempotency-Key": self.key}


class Clients:
    """The client side: threads that book their keys and retry each one to a final answer."""

    def __init__(self, server: CrashingServer, service_id: str, deadline: float) -> None:
        self.server, self.service_id, self.deadline = server, service_id, deadline
        self.sent_first = 0  # keys sent at least once, over all threads
        self.ready = threading.Barrier(CLIENTS + 1, timeout=30)  # clients and the killer
        self._lock = threading.Lock()

    def send(self, client: httpx.Client, key: KeyedBooking) -> tuple[int, Answer | None]:
        """The generation asked, and its answer or None when the request was cut off."""
        assert self.server.up.wait(timeout=60), "the write API did not come back"
        generation, process = self.server.current()
        body = {"service_id": self.service_id, "start": key.start.isoformat()}
        try:
            response = client.post(f"{process.url}/v1/bookings", json=body, headers=key.headers())
        except httpx.TransportError:
            return generation, None
        return generation, Answer.of(response)

    def run(self, keys: list[KeyedBooking]) -> None:
        """Send each key; a cut-off or in-flight key is retried when due, between new ones.

        Retrying as soon as it is due, rather than after the run, means retries
        meet live leases (and answer 409 in flight) and meet later kills too.
        """
        fresh = deque(keys)
        due: list[tuple[float, int, KeyedBooking]] = []  # (not before, tie-break, key)
        with httpx.Client(timeout=httpx.Timeout(30.0, connect=5.0)) as client:
            self.ready.wait()
            while fresh or due:
                assert time.monotonic() < self.deadline, f"unanswered: {[k.key for *_, k in due]}"
                if due and (due[0][0] <= time.monotonic() or not fresh):
                    not_before, _, key = heapq.heappop(due)
                    time.sleep(max(0.0, not_before - time.monotonic()))
                else:
                    key = fresh.popleft()
                    with self._lock:
                        self.sent_first += 1
                generation, answer = self.send(client, key)
                if answer is None:
                    key.interrupted_in.append(generation)
                    heapq.heappush(due, (time.monotonic() + 0.2, id(key), key))
                elif answer.in_flight:
                    assert 1 <= answer.retry_after <= math.ceil(LEASE_SECONDS), answer
                    key.in_flight_waits += 1
                    heapq.heappush(due, (time.monotonic() + answer.retry_after, id(key), key))
                else:
                    key.final = answer


@pytest.fixture
def crashing_server(
    postgres_dsn: str, postgres_schema: str, tmp_path: Path
) -> Iterator[CrashingServer]:
    """A write API with a short lease on a fresh schema; every process it ran is stopped after."""
    url = f"{postgres_dsn}?schema={postgres_schema}&pool_size=2&max_overflow=8"
    lease = {"SLOTWISE_IDEMPOTENCY_LEASE_SECONDS": str(LEASE_SECONDS)}
    server = CrashingServer(url, tmp_path, lease)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def open_class(server: CrashingServer) -> tuple[str, str]:
    """A business open around the clock (UTC) with a 30-minute two-seat class, over HTTP."""
    token = issue_token(JWT_SECRET, f"owner-{uuid.uuid4().hex[:8]}", Role.OWNER)
    _, process = server.current()
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=process.url, headers=auth, timeout=30.0) as client:
        business = client.post(
            "/v1/businesses",
            json={"name": "Crash Studio", "slug": "crash-studio", "timezone": "UTC"},
        )
        assert business.status_code == 201, business.text
        business_id = str(business.json()["id"])
        weekly = [{"day": day, "start": "00:00", "end": "24:00"} for day in WEEK]
        hours = client.put(f"/v1/businesses/{business_id}/hours", json={"weekly": weekly})
        assert hours.status_code == 200, hours.text
        service = client.post(
            f"/v1/businesses/{business_id}/services",
            json={
                "name": "Class",
                "duration_minutes": 30,
                "slot_interval_minutes": 30,
                "seats": SEATS,
                "price": {"amount": "25.00", "currency": "EUR"},
            },
        )
        assert service.status_code == 201, service.text
    return business_id, str(service.json()["id"])


def keyed_bookings(rng: random.Random) -> list[KeyedBooking]:
    """KEYS bookings by distinct customers, 3-4 of them for each start, in random order."""
    today = datetime.now(UTC).date()
    first = datetime(today.year, today.month, today.day, 10, tzinfo=UTC) + timedelta(days=5)
    run = uuid.uuid4().hex[:6]
    keys = [
        KeyedBooking(
            key=f"crash-{run}-{n:03d}",
            customer=f"customer-{run}-{n:03d}",
            start=first + timedelta(days=n % DAYS, minutes=30 * ((n // DAYS) % STARTS_PER_DAY)),
        )
        for n in range(KEYS)
    ]
    rng.shuffle(keys)
    return keys


@pytest.mark.postgres
def test_keys_cut_off_by_kill_9_all_end_with_an_answer_that_names_their_booking(
    crashing_server: CrashingServer,
) -> None:
    seed = int(os.environ.get("SLOTWISE_CRASH_SEED") or random.randrange(1 << 32))
    rng = random.Random(seed)  # the kill moments; a failure prints the seed
    server = crashing_server
    try:
        business_id, service_id = open_class(server)
        keys = keyed_bookings(rng)
        clients = Clients(server, service_id, deadline=time.monotonic() + RUN_SECONDS)

        # Given clients booking under load while the server is SIGKILLed and restarted
        unsent_at_kill: list[int] = []
        booked_at_kill: dict[int, set[str]] = {}  # generation -> customers booked when it died
        with ThreadPoolExecutor(CLIENTS) as pool:
            hands = [pool.submit(clients.run, keys[n::CLIENTS]) for n in range(CLIENTS)]
            clients.ready.wait()
            for _ in range(KILLS):
                time.sleep(rng.uniform(0.05, 0.4))  # of load before the kill
                unsent_at_kill.append(KEYS - clients.sent_first)
                generation, _ = server.current()
                server.kill9()
                placed, _ = read_store(server.store_url, business_id)
                booked_at_kill[generation] = {p.customer_id for p in placed}
                server.start()
            # When every client retries each cut-off key until it has a final answer
            for hand in hands:
                hand.result()

        # Then the kills cut requests off, yet every key has a final answer ...
        interrupted = [k for k in keys if k.interrupted_in]
        idle = [g for g in booked_at_kill if not any(g in k.interrupted_in for k in interrupted)]
        assert not idle, f"kills of generations {idle} cut no request off: they tested nothing"
        assert all(k.final is not None and k.final.is_final for k in keys)
        # ... the store holds exactly the bookings the answers name, within the seats ...
        placed, log_end = read_store(server.store_url, business_id)
        verify_answers_name_the_stored_bookings(keys, placed)
        verify_no_class_is_overbooked(keys, placed)
        # ... and every key, asked again, repeats its answer and appends nothing
        verify_answers_are_replayed_identically(clients, keys)
        assert read_store(server.store_url, business_id)[1] == log_end
    except BaseException:
        print(f"seed {seed} (SLOTWISE_CRASH_SEED)\n{server.logs()}")
        raise

    cut_off_per_kill = [sum(g in k.interrupted_in for k in keys) for g in sorted(booked_at_kill)]
    booked_unanswered = [
        k
        for k in interrupted
        if any(k.customer in booked_at_kill.get(g, ()) for g in k.interrupted_in)
    ]
    print(
        f"\nkill -9 run (seed {seed}): {KEYS} keys; {KILLS} kills with {unsent_at_kill} keys "
        f"not yet sent cut off {cut_off_per_kill} requests; {len(interrupted)} keys cut off, "
        f"{len(booked_unanswered)} of them already booked when the server died; "
        f"{sum(k.in_flight_waits for k in keys)} in-flight waits; final answers "
        f"{dict(Counter(k.final.kind for k in keys if k.final))}; {len(placed)} bookings in "
        "the store, each named by its key's answer"
    )


def verify_answers_name_the_stored_bookings(keys: list[KeyedBooking], placed: list[Placed]) -> None:
    """Each booking is named by exactly one key's 201, for that customer and start."""
    stored = {p.booking_id: p for p in placed}
    assert len(stored) == len(placed), "a booking was placed twice"
    accepted = [k for k in keys if k.final and k.final.booking_id]
    named = {str(k.final.booking_id): k for k in accepted if k.final}
    assert len(named) == len(accepted), "two keys were answered with the same booking"
    orphans = sorted(set(stored) - set(named))
    assert not orphans, f"bookings in the store that no key's answer names: {orphans}"
    phantoms = sorted(set(named) - set(stored))
    assert not phantoms, f"answers naming bookings the store does not hold: {phantoms}"
    for booking_id, key in named.items():
        booking = stored[booking_id]
        assert (booking.customer_id, booking.start) == (key.customer, key.start), key


def verify_no_class_is_overbooked(keys: list[KeyedBooking], placed: list[Placed]) -> None:
    """No class holds more than its seats, and a slot-unavailable refusal means it is full."""
    per_start = Counter(p.start for p in placed)
    assert max(per_start.values()) <= SEATS, f"double booking: {per_start}"
    for key in keys:
        assert key.final is not None
        if key.final.status != 201:
            assert key.final.kind == "slot-unavailable", key
            assert per_start[key.start] == SEATS, f"refused with a seat left: {key}"


def verify_answers_are_replayed_identically(clients: Clients, keys: list[KeyedBooking]) -> None:
    """Asking any key again gives the answer it ended with, byte for byte."""
    with httpx.Client(timeout=30.0) as client:
        for key in keys:
            assert key.final is not None
            _, again = clients.send(client, key)
            assert again is not None, key
            assert (again.status, again.content) == (key.final.status, key.final.content), key
            assert again.headers.get("idempotent-replayed") == "true", again.headers


# --------------------------------------------------------------------------- database errors


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """The shared settings with a short lease, so that a stuck key shows within the test."""
    shared = settings_for(backend, tmp_path, request)
    return shared.model_copy(update={"idempotency_lease_seconds": IN_PROCESS_LEASE_SECONDS})


def connection_lost() -> sqlalchemy.exc.OperationalError:
    return sqlalchemy.exc.OperationalError("UPDATE slotwise_command_keys", {}, OSError("gone"))


def lose_the_commit_acknowledgement(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    """The booking's events commit, then the connection drops before the handler hears so."""
    save = container.app.save

    def saved_then_lost(*aggregates: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(container.app, "save", save)  # once
        save(*aggregates, **kwargs)
        raise EventStoreOperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(container.app, "save", saved_then_lost)


def lose_the_database_for_the_rest_of_the_request(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As above, and releasing the key's lease fails too: only its expiry frees the key."""
    lose_the_commit_acknowledgement(container, monkeypatch)
    store = container.idempotency
    abandon = store.abandon

    def unreachable(scope: str, key: str) -> None:
        monkeypatch.setattr(store, "abandon", abandon)  # once
        raise connection_lost()

    monkeypatch.setattr(store, "abandon", unreachable)


def fail_to_store_the_answer(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    """The booking is made and answered, but storing the answer under the key fails."""
    store = container.idempotency
    complete = store.complete

    def unreachable(*args: Any) -> None:
        monkeypatch.setattr(store, "complete", complete)  # once
        raise connection_lost()

    monkeypatch.setattr(store, "complete", unreachable)


def open_salon(client: TestClient, owner: dict[str, str]) -> tuple[str, str]:
    """A business open around the clock (UTC) with a 30-minute one-to-one service."""
    business = client.post(
        "/v1/businesses",
        json={"name": "Glitch Salon", "slug": "glitch-salon", "timezone": "UTC"},
        headers=owner,
    )
    assert business.status_code == 201, business.text
    business_id = str(business.json()["id"])
    weekly = [{"day": day, "start": "00:00", "end": "24:00"} for day in WEEK]
    hours = client.put(
        f"/v1/businesses/{business_id}/hours", json={"weekly": weekly}, headers=owner
    )
    assert hours.status_code == 200, hours.text
    service = client.post(
        f"/v1/businesses/{business_id}/services",
        json={"name": "Cut", "duration_minutes": 30, "price": {"amount": "25", "currency": "EUR"}},
        headers=owner,
    )
    assert service.status_code == 201, service.text
    return business_id, str(service.json()["id"])


MONDAY_TEN = "2027-03-08T10:00:00+00:00"


@dataclass(frozen=True)
class KeyedRequest:
    """A salon of `open_salon`, and one customer's booking in it under an Idempotency-Key."""

    business_id: str
    service_id: str
    request: dict[str, str]
    headers: dict[str, str]

    def post(self, client: TestClient) -> Answer:
        return Answer.of(client.post("/v1/bookings", json=self.request, headers=self.headers))


def keyed_booking(
    client: TestClient,
    token: Callable[[str, str], dict[str, str]],
    owner: str,
    customer: str,
    key: str,
    start: str = MONDAY_TEN,
) -> KeyedRequest:
    business_id, service_id = open_salon(client, token(owner, "owner"))
    request = {"service_id": service_id, "start": start}
    headers = {**token(customer, "customer"), "Idempotency-Key": key}
    return KeyedRequest(business_id, service_id, request, headers)


@pytest.mark.parametrize(
    ("failure", "first_status"),
    [
        (lose_the_commit_acknowledgement, 503),
        (lose_the_database_for_the_rest_of_the_request, 503),
        (fail_to_store_the_answer, 201),
    ],
)
def test_a_database_error_after_the_booking_was_written_leaves_the_key_answerable(
    failure: Callable[[Container, pytest.MonkeyPatch], None],
    first_status: int,
    container: Container,
    write_client: TestClient,
    token: Callable[[str, str], dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keyed = keyed_booking(write_client, token, "owner-glitch", "ann", "ann-monday-10")
    business_id = keyed.business_id

    def book() -> Answer:
        return keyed.post(write_client)

    # Given the database fails once during a keyed booking, after the booking was written
    failure(container, monkeypatch)
    first = book()
    assert first.status == first_status, first
    assert len(placed_bookings(container.app, business_id)) == 1

    # When the client retries the key, waiting out Retry-After once if told to
    answers = [book()]
    if answers[-1].in_flight:
        assert 1 <= answers[-1].retry_after <= math.ceil(IN_PROCESS_LEASE_SECONDS), answers
        time.sleep(answers[-1].retry_after)
        answers.append(book())

    # Then it answers with the one booking the store holds for it, and keeps answering so
    final = answers[-1]
    assert final.status == 201, [a.kind for a in answers]
    (booking,) = placed_bookings(container.app, business_id)
    assert final.booking_id == booking.booking_id
    if first.status == 201:
        assert first.booking_id == booking.booking_id
    again = book()
    assert (again.status, again.content) == (final.status, final.content)
    assert again.headers.get("idempotent-replayed") == "true"
    assert len(placed_bookings(container.app, business_id)) == 1
