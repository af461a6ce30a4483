"""No double booking, ever: many concurrent requests through two write-API processes.

Two real uvicorn processes serve the write API on one PostgreSQL event store.
Each round fires 32+ booking requests at once (a barrier releases them
together), alternating between the processes, each with its own customer. The
answers must be exactly what the rules allow (201 or an honest 409, never a
5xx), and the event store itself is then read back to prove that the accepted
bookings respect capacity and seats, and that every 201 is one Booking.Placed
event and vice versa.

The processes are started one after the other on purpose: two processes
bootstrapping an empty schema at the same instant can race creating their tables
(eventsourcing's CREATE TYPE/TABLE and SQLAlchemy's create_all both fail with a
UniqueViolation on pg_type), which is a startup issue in infra/bootstrap.py and
not the booking guard under test here.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from commands.app import SlotWise
from domain.actor import Role
from infra.auth import issue_token
from infra.settings import Settings

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.subprocess,
    pytest.mark.slow,
    pytest.mark.timeout(300),
]

ROOT = Path(__file__).resolve().parents[2]
SECRET = "concurrency-test-secret-0123456789-abcdef"
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
REQUESTS_PER_ROUND = 32
HEALTH_TIMEOUT = 30.0
PROBLEMS = "https://slotwise.dev/problems/"
SLOT_UNAVAILABLE = PROBLEMS + "slot-unavailable"
VERSION_CONFLICT = PROBLEMS + "version-conflict"

# 409 kinds over the whole module, printed by each test (run with -s to see them).
REJECTIONS: Counter[str] = Counter()


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class WriteServer:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self, chars: int = 20_000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-chars:]


@dataclass
class Cluster:
    """Two write-API processes on one event store, and the URL of that store."""

    store_url: str
    servers: list[WriteServer] = field(default_factory=list)

    def logs(self) -> str:
        return "\n".join(
            f"----- write API on port {s.port} (exit code {s.process.poll()}) -----\n{s.tail()}"
            for s in self.servers
        )

    def require_alive(self) -> None:
        dead = [s.port for s in self.servers if s.process.poll() is not None]
        assert not dead, f"write API process(es) on port(s) {dead} died\n{self.logs()}"


def start_server(store_url: str, log_dir: Path) -> WriteServer:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTWISE_")}
    env.update(
        SLOTWISE_EVENT_STORE=store_url,
        SLOTWISE_READ_DB=store_url,
        SLOTWISE_JWT_SECRET=SECRET,
        PYTHONUNBUFFERED="1",
    )
    log = log_dir / f"write-api-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "write_api.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return WriteServer(port, process, log)


def wait_healthy(server: WriteServer) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT
    last = "no answer yet"
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                break
            try:
                answer = client.get(f"{server.url}/health")
                if answer.status_code == 200:
                    return
                last = f"HTTP {answer.status_code}"
            except httpx.TransportError as error:
                last = repr(error)
            time.sleep(0.2)
    pytest.fail(
        f"write API on port {server.port} not healthy within {HEALTH_TIMEOUT}s "
        f"(exit code {server.process.poll()}, last: {last})\n{server.tail()}"
    )


def stop_server(server: WriteServer) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A fresh schema for this module and two write-API processes on it."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    log_dir = tmp_path_factory.mktemp("write-api-logs")
    # Pools big enough for a burst of 32, small enough for the machine's 100 connections.
    built = Cluster(store_url=f"{postgres_dsn}?schema={schema}&pool_size=4&max_overflow=12")
    try:
        for _ in range(2):  # one after the other: see the module docstring
            server = start_server(built.store_url, log_dir)
            built.servers.append(server)
            wait_healthy(server)
        yield built
    finally:
        for server in built.servers:
            stop_server(server)
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def logs_on_failure(cluster: Cluster) -> Iterator[None]:
    """Print both servers' logs into the test's captured output if anything fails."""
    try:
        yield
    except BaseException:
        print(cluster.logs())
        raise


# --------------------------------------------------------------------------- HTTP helpers


def bearer(sub: str, role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, sub, role)}"}


def created(answer: httpx.Response) -> str:
    assert answer.status_code in (200, 201), f"{answer.request.url}: {answer.text}"
    return str(answer.json()["id"])


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    duration: int
    seats: int = 1
    buffer_before: int = 0
    buffer_after: int = 0
    interval: int = 30


@dataclass
class Business:
    id: str
    capacity: int
    services: dict[str, ServiceSpec]  # service id -> its terms


def open_business(cluster: Cluster, capacity: int, specs: list[ServiceSpec]) -> Business:
    """Register a business open around the clock (UTC) with `specs`, over HTTP."""
    owner = f"owner-{uuid.uuid4().hex[:8]}"
    headers = bearer(owner, Role.OWNER)
    base = cluster.servers[0].url
    with httpx.Client(base_url=base, headers=headers, timeout=30.0) as client:
        business_id = created(
            client.post(
                "/v1/businesses",
                json={
                    "name": "Concurrency Studio",
                    "slug": f"concurrency-{uuid.uuid4().hex[:12]}",
                    "timezone": "UTC",
                    "capacity": capacity,
                },
            )
        )
        weekly = [{"day": day, "start": "00:00", "end": "24:00"} for day in WEEK]
        created(client.put(f"/v1/businesses/{business_id}/hours", json={"weekly": weekly}))
        services = {}
        for spec in specs:
            service_id = created(
                client.post(
                    f"/v1/businesses/{business_id}/services",
                    json={
                        "name": spec.name,
                        "duration_minutes": spec.duration,
                        "price": {"amount": "40.00", "currency": "EUR"},
                        "seats": spec.seats,
                        "buffer_before_minutes": spec.buffer_before,
                        "buffer_after_minutes": spec.buffer_after,
                        "slot_interval_minutes": spec.interval,
                    },
                )
            )
            services[service_id] = spec
    return Business(business_id, capacity, services)


def booking_day(days_ahead: int) -> datetime:
    """10:00 UTC `days_ahead` days from today: real future times for the real clock."""
    today = datetime.now(UTC).date()
    day = today + timedelta(days=days_ahead)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Request:
    service_id: str
    start: datetime


@dataclass(frozen=True)
class Answer:
    request: Request
    port: int
    status: int
    body: dict[str, Any]

    @property
    def problem_type(self) -> str:
        return str(self.body.get("type", ""))


def fire(cluster: Cluster, requests: list[Request], label: str) -> list[Answer]:
    """Send all `requests` at once, alternating between the two processes."""
    assert 0 < len(requests) <= 40
    barrier = threading.Barrier(len(requests), timeout=60)
    clients = []
    for n, _ in enumerate(requests):
        server = cluster.servers[n % len(cluster.servers)]
        headers = bearer(f"customer-{label}-{n}-{uuid.uuid4().hex[:6]}", Role.CUSTOMER)
        clients.append((server, httpx.Client(base_url=server.url, headers=headers, timeout=60)))

    def one(n: int) -> Answer:
        server, client = clients[n]
        request = requests[n]
        client.get("/health").raise_for_status()  # open the connection before the barrier
        barrier.wait()
        answer = client.post(
            "/v1/bookings",
            json={"service_id": request.service_id, "start": request.start.isoformat()},
        )
        try:
            body = answer.json()
        except ValueError:
            body = {"raw": answer.text}
        return Answer(request, server.port, answer.status_code, body)

    try:
        with ThreadPoolExecutor(max_workers=40) as pool:
            answers = list(pool.map(one, range(len(requests))))
    finally:
        for _, client in clients:
            client.close()
    check_answers(answers)
    return answers


def check_answers(answers: list[Answer]) -> None:
    """Only 201s and honest 409s; count the kinds of 409."""
    unexpected = [a for a in answers if a.status not in (201, 409)]
    assert not unexpected, f"answers other than 201/409: {unexpected}"
    for answer in answers:
        if answer.status == 201:
            assert answer.body.get("id"), answer
            continue
        assert answer.problem_type in (SLOT_UNAVAILABLE, VERSION_CONFLICT), answer
        REJECTIONS[answer.problem_type.removeprefix(PROBLEMS)] += 1


# --------------------------------------------------------------------------- event store


@dataclass(frozen=True)
class Placed:
    booking_id: str
    service_id: str
    start: datetime
    occupied_start: datetime
    occupied_end: datetime


def placed_bookings(cluster: Cluster, business_id: str) -> list[Placed]:
    """Every Booking.Placed of the business, read from the event store itself."""
    settings = Settings(event_store=cluster.store_url, read_db=cluster.store_url, jwt_secret=SECRET)
    app = SlotWise(env=settings.eventsourcing_env())
    try:
        notifications = app.recorder.select_notifications(start=1, limit=100_000)
        assert len(notifications) < 100_000, "raise the limit: the log has grown"
        found = []
        for notification in notifications:
            event: Any = app.mapper.to_domain_event(notification)
            if type(event).__qualname__ != "Booking.Placed":
                continue
            if str(event.business_id) != business_id:
                continue
            found.append(
                Placed(
                    booking_id=str(event.originator_id),
                    service_id=str(event.service_id),
                    start=event.start,
                    occupied_start=event.occupied_start,
                    occupied_end=event.occupied_end,
                )
            )
        return found
    finally:
        app.close()


def peak(intervals: list[tuple[datetime, datetime]]) -> int:
    """Most half-open intervals running at one instant (an end frees before a start)."""
    edges = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def occupied(spec: ServiceSpec, start: datetime) -> tuple[datetime, datetime]:
    end = start + timedelta(minutes=spec.duration)
    return (
        start - timedelta(minutes=spec.buffer_before),
        end + timedelta(minutes=spec.buffer_after),
    )


def occurrence_of(business: Business, service_id: str, start: datetime, booking: str) -> Any:
    """A group session's bookings at one start share one occurrence; one-to-one ones do not."""
    return (service_id, start) if business.services[service_id].seats > 1 else booking


def verify_store(
    cluster: Cluster, business: Business, answers: list[Answer]
) -> dict[Any, list[Placed]]:
    """The store agrees with the answers and never holds more than the rules allow.

    Checked independently of the slot engine: a one-seat service's bookings are
    one occurrence each, a group service's bookings at one start share one and
    number at most `seats`; at most `capacity` occurrences run at any instant;
    and every slot-unavailable refusal really could not have fitted.
    """
    placed = placed_bookings(cluster, business.id)
    accepted = {str(a.body["id"]): a for a in answers if a.status == 201}
    assert len(placed) == len(accepted), (len(placed), len(accepted))
    assert {p.booking_id for p in placed} == set(accepted)

    occurrences: dict[Any, list[Placed]] = {}
    for booking in placed:
        answer = accepted[booking.booking_id]
        assert booking.service_id == answer.request.service_id
        assert booking.start == answer.request.start
        spec = business.services[booking.service_id]
        assert (booking.occupied_start, booking.occupied_end) == occupied(spec, booking.start)
        key = occurrence_of(business, booking.service_id, booking.start, booking.booking_id)
        occurrences.setdefault(key, []).append(booking)

    for held in occurrences.values():
        seats = business.services[held[0].service_id].seats
        assert len(held) <= seats, f"{len(held)} bookings in a {seats}-seat occurrence {held}"
    spans = [(held[0].occupied_start, held[0].occupied_end) for held in occurrences.values()]
    assert peak(spans) <= business.capacity, (
        f"double booking: {peak(spans)} occurrences at once with capacity "
        f"{business.capacity}: {sorted(spans)}"
    )

    for answer in answers:
        if answer.problem_type != SLOT_UNAVAILABLE:
            continue
        request = answer.request
        spec = business.services[request.service_id]
        joined = occurrences.get((request.service_id, request.start)) if spec.seats > 1 else None
        if joined is not None:
            assert len(joined) == spec.seats, f"refused although seats were left: {answer}"
        else:
            with_it = [*spans, occupied(spec, request.start)]
            assert peak(with_it) > business.capacity, f"refused although it fitted: {answer}"
    return occurrences


def report(title: str, answers: list[Answer], started: float) -> None:
    kinds = Counter(
        "201" if a.status == 201 else a.problem_type.removeprefix(PROBLEMS) for a in answers
    )
    print(
        f"\n{title}: {len(answers)} requests in {time.monotonic() - started:.1f}s -> "
        f"{dict(kinds)}; module total 409s so far: {dict(REJECTIONS)}"
    )


# --------------------------------------------------------------------------- tests


def test_one_slot_has_exactly_one_winner_across_two_processes(cluster: Cluster) -> None:
    """5 rounds, each 32 customers racing for one 60-minute slot: one 201, 31 409s."""
    started = time.monotonic()
    with logs_on_failure(cluster):
        business = open_business(cluster, 1, [ServiceSpec("hour", 60, interval=60)])
        (service_id,) = business.services
        day = booking_day(10)
        answers: list[Answer] = []
        for round_ in range(5):
            start = day + timedelta(hours=round_)
            burst = fire(cluster, [Request(service_id, start)] * REQUESTS_PER_ROUND, f"r{round_}")
            statuses = Counter(a.status for a in burst)
            assert statuses == {201: 1, 409: REQUESTS_PER_ROUND - 1}, (round_, statuses)
            answers += burst
        occurrences = verify_store(cluster, business, answers)
        assert sorted(held[0].start for held in occurrences.values()) == [
            day + timedelta(hours=n) for n in range(5)
        ]
        cluster.require_alive()
    report("one slot, 5 rounds", answers, started)


def test_overlapping_bookings_of_different_lengths_never_overlap(cluster: Cluster) -> None:
    """Capacity 1; 30 (+15 buffer), 60 and 90 minute services race for overlapping starts."""
    started = time.monotonic()
    with logs_on_failure(cluster):
        business = open_business(
            cluster,
            1,
            [
                ServiceSpec("short", 30, buffer_after=15),
                ServiceSpec("hour", 60),
                ServiceSpec("long", 90),
            ],
        )
        by_length = {spec.duration: sid for sid, spec in business.services.items()}
        answers: list[Answer] = []
        for round_ in range(4):
            day = booking_day(11 + round_)
            targets = [
                Request(by_length[length], day + timedelta(minutes=offset))
                for length, offsets in ((30, range(0, 150, 30)), (60, range(0, 120, 30)))
                for offset in offsets
            ] + [Request(by_length[90], day + timedelta(minutes=m)) for m in (0, 30, 60)]
            burst = fire(cluster, (targets * 3)[:36], f"o{round_}")
            assert any(a.status == 201 for a in burst), round_
            answers += burst
        verify_store(cluster, business, answers)
        cluster.require_alive()
    report("different lengths, 4 rounds", answers, started)


def test_capacity_two_with_seats_never_exceeds_either(cluster: Cluster) -> None:
    """Capacity 2; a 3-seat class and one-to-one sessions race: <= 2 occurrences, <= seats each."""
    started = time.monotonic()
    with logs_on_failure(cluster):
        business = open_business(
            cluster, 2, [ServiceSpec("class", 60, seats=3), ServiceSpec("solo", 60, seats=1)]
        )
        by_name = {spec.name: sid for sid, spec in business.services.items()}
        answers: list[Answer] = []
        for round_ in range(3):
            day = booking_day(20 + round_)
            plan = [
                ("class", 0, 10),
                ("class", 30, 8),
                ("solo", 0, 6),
                ("solo", 30, 6),
                ("solo", 60, 6),
            ]
            requests = [
                Request(by_name[name], day + timedelta(minutes=offset))
                for name, offset, count in plan
                for _ in range(count)
            ]
            burst = fire(cluster, requests, f"c{round_}")
            assert 2 <= sum(a.status == 201 for a in burst) <= 2 * 3 + 2, round_
            answers += burst
        occurrences = verify_store(cluster, business, answers)
        assert any(len(held) > 1 for held in occurrences.values()), "seats never shared"
        cluster.require_alive()
    report("capacity 2 with seats, 3 rounds", answers, started)


def test_two_chairs_seat_exactly_two_of_many_racing_customers(cluster: Cluster) -> None:
    """Capacity 2, a one-to-one service: 3 rounds of 32 customers for one start, two 201s each."""
    started = time.monotonic()
    with logs_on_failure(cluster):
        business = open_business(cluster, 2, [ServiceSpec("chair", 60, interval=60)])
        (service_id,) = business.services
        day = booking_day(30)
        answers: list[Answer] = []
        for round_ in range(3):
            start = day + timedelta(hours=round_)
            burst = fire(cluster, [Request(service_id, start)] * REQUESTS_PER_ROUND, f"t{round_}")
            statuses = Counter(a.status for a in burst)
            assert statuses == {201: 2, 409: REQUESTS_PER_ROUND - 2}, (round_, statuses)
            answers += burst
        occurrences = verify_store(cluster, business, answers)
        assert len(occurrences) == 6
        cluster.require_alive()
    report("two chairs, 3 rounds", answers, started)
