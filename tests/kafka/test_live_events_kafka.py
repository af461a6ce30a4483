"""Live events through Kafka, from a read API in two uvicorn workers.

The production stack: PostgreSQL, the relay and two projector workers feeding
the read models from Kafka, and `slotwise read-api --workers 2` as a real
process. Every worker has its own broadcaster, woken by PostgreSQL's NOTIFY
and following the projections' progress: a booking made through the write API
reaches every open stream on both workers, and a stream resumed on the other
worker with Last-Event-ID misses nothing and repeats nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from domain.actor import Role
from infra.auth import issue_token
from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from tests.conftest import JWT_SECRET, FrozenClock, drop_schema, new_schema
from tests.e2e.conftest import MONDAY, OWNER, Api, Salon, local
from tests.integration.test_cli import free_port
from tests.integration.test_live_events import Stream, booked, business_positions
from tests.kafka.processes import Process
from tests.kafka_broker import Broker
from tests.production_stack import (
    InProcessStack,
    forget_redis_keys,
    production_settings,
)
from write_api.app import create_app as create_write_app

pytestmark = [pytest.mark.subprocess, pytest.mark.slow, pytest.mark.timeout(300)]
WITHIN = 2.0  # seconds from the write's answer to every stream, through Kafka (issue 16)


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (uvicorn's workers are children of its supervisor)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found.update(children)
        todo.extend(children)
    return found


def serving_process(server_port: int, client_port: int, pids: set[int]) -> int | None:
    """The process holding the server's end of the loopback connection from `client_port`."""
    wanted = f"0100007F:{server_port:04X} 0100007F:{client_port:04X}"
    inode = None
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            if f"{fields[1]} {fields[2]}" == wanted:
                inode = fields[9]
    if inode is None:
        return None
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
        except OSError:
            continue
    return None


@dataclass
class Opened:
    """An open stream and the worker serving it."""

    stream: Stream
    worker: int
    close: Callable[[], None]


class TwoWorkers:
    """`slotwise read-api --workers 2` on a port of its own."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = ["read-api", "--workers", "2", "--port", str(self.port)]
        self.process = Process(args, settings, log)
        self.log = log

    def start(self) -> None:
        self.process.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.popen is not None and self.process.popen.poll() is None, (
                self.log.read_text()[-3000:]
            )
            if len(self.workers()) >= 2 and self._ready():
                return
            time.sleep(0.1)
        pytest.fail(f"the read API did not start: {self.log.read_text()[-3000:]}")

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    def workers(self) -> set[int]:
        assert self.process.popen is not None
        return descendants(self.process.popen.pid)

    def stop(self) -> None:
        if self.process.popen is not None and self.process.popen.poll() is None:
            assert self.process.terminate(timeout=60) == 0, self.log.read_text()[-3000:]


@dataclass
class Live:
    api: Api
    read: TwoWorkers
    container: Container
    exits: ExitStack

    def open(self, salon: Salon, **headers: str) -> Opened:
        """One more stream of the salon's events, on whichever worker accepts it."""
        client = self.exits.enter_context(httpx.Client(timeout=httpx.Timeout(10.0)))
        path = f"{self.read.url}/v1/businesses/{salon.business_id}/events"
        auth = {**self.api.auth(OWNER, "owner"), "X-Consistency-Token": salon.token}
        request = client.stream(
            "GET", path, headers={**auth, "Accept": "text/event-stream", **headers}
        )
        response = request.__enter__()
        assert response.status_code == 200, response.read()
        stream = Stream(response)
        client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
        worker = serving_process(self.read.port, client_port, self.read.workers())
        assert worker is not None, "no worker holds the stream's connection"

        def close() -> None:
            request.__exit__(None, None, None)

        return Opened(stream, worker, close)

    def on_each_worker(self, salon: Salon, per_worker: int = 2) -> list[Opened]:
        """Streams until every worker serves `per_worker` of them (extra ones closed)."""
        kept: dict[int, list[Opened]] = {}
        for _ in range(40):
            opened = self.open(salon)
            mine = kept.setdefault(opened.worker, [])
            if len(mine) < per_worker:
                mine.append(opened)
            else:
                opened.close()
            if len(kept) == 2 and all(len(s) == per_worker for s in kept.values()):
                return [o for streams in kept.values() for o in streams]
        pytest.fail(f"40 connections did not reach both workers: {sorted(kept)}")

    def elsewhere(self, salon: Salon, worker: int, **headers: str) -> Opened:
        """A stream on a worker other than `worker`."""
        for _ in range(40):
            opened = self.open(salon, **headers)
            if opened.worker != worker:
                return opened
            opened.close()
        pytest.fail("40 connections all reached the same worker")


@dataclass
class Shared:
    """One production stack and read API for the module's tests (they start slowly)."""

    api: Api
    read: TwoWorkers
    container: Container


@pytest.fixture(scope="module")
def shared(
    postgres_dsn: str, kafka_broker: Broker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shared]:
    schemas = (new_schema(postgres_dsn), new_schema(postgres_dsn))
    settings = production_settings(
        postgres_dsn, *schemas, kafka_broker.servers, JWT_SECRET, partitions=4
    )
    container = bootstrap(settings, clock=FrozenClock(datetime(2027, 3, 1, 12, 0, tzinfo=UTC)))
    stack = InProcessStack(settings)
    read = TwoWorkers(settings, tmp_path_factory.mktemp("live") / "read-api.log")
    try:
        stack.start(workers=2)
        read.start()
        with (
            TestClient(create_write_app(container), raise_server_exceptions=False) as write,
            httpx.Client(base_url=read.url, timeout=10.0) as reads,
        ):
            api = Api(write, reads, headers, container, stack)  # type: ignore[arg-type]
            yield Shared(api, read, container)
    finally:
        read.stop()
        stack.stop()
        container.close()
        for schema in schemas:
            drop_schema(postgres_dsn, schema)
        forget_redis_keys(settings)


def headers(sub: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(JWT_SECRET, sub, Role(role))}"}


@pytest.fixture
def live(shared: Shared) -> Iterator[Live]:
    with ExitStack() as exits:
        yield Live(shared.api, shared.read, shared.container, exits)


def test_a_booking_reaches_every_stream_on_both_workers_within_two_seconds(live: Live) -> None:
    salon = live.api.open_salon(slug="everywhere")
    streams = live.on_each_worker(salon)
    booking = live.api.book(salon.service_id, local(MONDAY, 10), expect=201).json()
    answered = time.monotonic()
    late: list[float] = []
    for opened in streams:
        opened.stream.until(booked(booking["id"]), seconds=10.0)
        late.append(time.monotonic() - answered)
    assert max(late) < WITHIN, f"seconds to each stream: {late}"
    for opened in streams:
        [event] = [e for e in opened.stream.events if e[2]["subject"] == booking["id"]]
        assert event[1] == "slotwise.booking.placed" and event[0] == event[2]["position"]
    assert len({o.worker for o in streams}) == 2


def test_a_stream_resumed_on_the_other_worker_misses_nothing(live: Live) -> None:
    salon = live.api.open_salon(slug="resumed")
    first = live.open(salon)
    booking = live.api.book(salon.service_id, local(MONDAY, 9), expect=201).json()
    first.stream.until(booked(booking["id"]))
    last_seen = first.stream.events[-1][0]
    first.close()

    missed = [
        live.api.book(salon.service_id, local(MONDAY, h), expect=201).json() for h in (11, 12)
    ]
    live.api.act(missed[0]["id"], "cancel", "ann", "customer", {"reason": "ill"})
    second = live.elsewhere(salon, first.worker, **{"Last-Event-ID": str(last_seen)})
    second.stream.until(booked(missed[1]["id"]), seconds=10.0)
    later = live.api.book(salon.service_id, local(MONDAY, 14), expect=201).json()
    second.stream.until(booked(later["id"]), seconds=10.0)

    got = [position for position, _, _ in second.stream.events]
    assert got == sorted(set(got)) and got[0] > last_seen
    live.api.settle()  # the read models know every booking's business
    assert got == business_positions(live.container, salon.business_id, last_seen, got[-1])
    kinds = [kind for _, kind, _ in second.stream.events]
    assert "slotwise.booking.cancelled" in kinds
