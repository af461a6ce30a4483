"""`slotwise read-api` SIGKILLed while its follower projects: every event lands once.

The follower's read-model transactions commit with `synchronous_commit = off`
on PostgreSQL (infra/consumers/runtime.py, `rebuildable`). That is safe only
because each transaction holds the effects *and* the checkpoint: whatever
commits are cut short, the read models resume from a checkpoint that matches
them. Here a read API follows a store that this process keeps writing to
(bookings placed and some cancelled), is killed at random moments and started
again; at the end its read models must equal read models built from scratch
from the same log (a counter applied twice, or an event skipped, would differ).
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from commands.messages import CancelBooking, PlaceBooking
from domain.actor import Actor, Role
from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from tests.conftest import JWT_SECRET, SMALL_POOLS, FrozenClock, fresh_schema
from tests.integration.test_cli import free_port
from tests.integration.test_scenarios import MONDAY_10, OWNER, open_salon, table_contents
from tests.killable import KillableProcess

pytestmark = [pytest.mark.postgres, pytest.mark.subprocess, pytest.mark.slow]
SLOTWISE = str(Path(sys.executable).with_name("slotwise"))
ROUNDS, BOOKINGS_PER_ROUND = 5, 12


class ReadApi(KillableProcess):
    """One `slotwise read-api` process at a time on the store, SIGKILLed and started again."""

    def __init__(self, store: str, log: Path) -> None:
        super().__init__(log)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTWISE_")} | {
            "SLOTWISE_EVENT_STORE": store,
            "SLOTWISE_READ_DB": store,
            "SLOTWISE_JWT_SECRET": JWT_SECRET,
        }

    def start(self) -> None:
        port = free_port()
        self.spawn([SLOTWISE, "read-api", "--port", str(port)], self.env)
        assert self.process is not None
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, self.tail()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"the read API never answered\n{self.tail()}"
            time.sleep(0.05)


@pytest.fixture
def scratch_schema(postgres_dsn: str) -> Iterator[str]:
    """A second schema, for read models built from scratch."""
    with fresh_schema(postgres_dsn) as name:
        yield name


def slot(n: int) -> datetime:
    """The n-th bookable start: four a day (9, 11, 13, 15 h), Monday to Wednesday, week by week."""
    week, rest = divmod(n, 12)
    day, hour = divmod(rest, 4)
    return MONDAY_10 + timedelta(days=7 * week + day, hours=2 * hour - 1)


def book_and_cancel(
    container: Container, service_id: UUID, numbers: range, errors: list[BaseException]
) -> None:
    """Customers book a slot each; every third cancels (counters go up and down)."""
    try:
        for n in numbers:
            customer = Actor(f"c{n}", Role.CUSTOMER)
            booking = container.app.place_booking(PlaceBooking(customer, service_id, slot(n)))
            if n % 3 == 0:
                container.app.handle(CancelBooking(OWNER, booking.id))
            time.sleep(0.01)
    except BaseException as error:  # the test fails on it, not the thread
        errors.append(error)
        raise


def test_kill_9_while_projecting_neither_loses_nor_doubles_an_event(
    postgres_dsn: str,
    postgres_schema: str,
    scratch_schema: str,
    tmp_path: Path,
    clock: FrozenClock,
) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    print(f"seed {seed}")
    store = f"{postgres_dsn}?schema={postgres_schema}&{SMALL_POOLS}"
    writer = bootstrap(
        Settings(event_store=store, read_db=store, jwt_secret=JWT_SECRET), clock=clock
    )
    server = ReadApi(store, tmp_path / "read-api.log")
    errors: list[BaseException] = []
    try:
        _, service = open_salon(writer)
        for round_ in range(ROUNDS):
            server.start()
            numbers = range(round_ * BOOKINGS_PER_ROUND, (round_ + 1) * BOOKINGS_PER_ROUND)
            writes = threading.Thread(
                target=book_and_cancel, args=(writer, service.id, numbers, errors)
            )
            writes.start()
            time.sleep(rng.uniform(0.05, 0.4))
            server.kill9()  # while the writes come and the follower projects them
            writes.join(timeout=120)
            assert not errors, errors
        server.start()
        everyone = tuple(c.name for c in writer.runtime.consumers)
        end = writer.app.recorder.max_notification_id()
        deadline = time.monotonic() + 60
        while writer.reached(everyone) != end:
            assert time.monotonic() < deadline, f"the read API never caught up\n{server.tail()}"
            time.sleep(0.05)
        server.stop()

        scratch_url = f"{postgres_dsn}?schema={scratch_schema}&{SMALL_POOLS}"
        settings = Settings(event_store=store, read_db=scratch_url, jwt_secret=JWT_SECRET)
        scratch = bootstrap(settings, clock=clock)
        try:
            scratch.catch_up()
            assert table_contents(writer) == table_contents(scratch), f"seed {seed}"
        finally:
            scratch.close()
    finally:
        server.stop()
        writer.close()
