"""`slotwise waitlist` SIGKILLed while it offers freed seats: no offer lost, none made twice.

The process manager runs as its own process on a fresh PostgreSQL schema; this
test frees seats (cancellations, written from its own process on the same
store) in rounds and kills the worker at a random moment of each round, then
starts another. Every freed seat must end up offered exactly once, in line
order, with one durable timer each; a worker killed while the offers run
leaves their timers in the table, and they fire later in another process
manager (this process's, with its clock moved past them), which then offers
the seats they free to the rest of the line.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import select

from commands.messages import CancelBooking, CreateService, PlaceBooking, RegisterBusiness, SetHours
from commands.waitlist_messages import JoinWaitlist
from domain.actor import Actor, Role
from domain.allocation import DayAllocation
from domain.service import ServiceTerms
from domain.values import Money
from domain.waitlist import EntryStatus
from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from infra.waitlist.service import WaitlistWorker
from infra.waitlist.tables import waitlist_tasks
from tests.conftest import JWT_SECRET, SMALL_POOLS, FrozenClock
from tests.integration.test_cli import free_port
from tests.killable import KillableProcess

pytestmark = [pytest.mark.postgres, pytest.mark.subprocess, pytest.mark.slow]
SLOTWISE = str(Path(sys.executable).with_name("slotwise"))
OWNER = Actor("owner-a", Role.OWNER)
CAPACITY, LINE, ROUNDS = 12, 16, 2  # half of the seats freed in each round


class Worker(KillableProcess):
    """One `slotwise waitlist` process at a time, SIGKILLed and started again."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        super().__init__(log)
        self.env = env

    def start(self, *options: str) -> None:
        self.spawn([SLOTWISE, "waitlist", *options], self.env)

    def running(self, times: int) -> bool:
        """Whether the `times`-th process has started its loop (it says so once it has)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text.count("slotwise waitlist: running") >= times


@pytest.fixture
def store(postgres_dsn: str, postgres_schema: str) -> str:
    return f"{postgres_dsn}?schema={postgres_schema}&{SMALL_POOLS}"


@pytest.fixture
def shop(store: str, clock: FrozenClock) -> Iterator[Container]:
    """The writers in this process, on the worker's store; the clock starts at real now."""
    clock.now = datetime.now(UTC)
    container = bootstrap(
        Settings(event_store=store, read_db=store, jwt_secret=JWT_SECRET), clock=clock
    )
    yield container
    container.close()


def wait_for(check: Callable[[], bool], what: str, worker: Worker, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}\n{worker.tail()}"
        time.sleep(0.02)


def offers(shop: Container, line: list[UUID]) -> list[int]:
    """How many Offered events each entry in line has."""
    return [
        sum(1 for e in shop.app.events.get(entry) if type(e).__name__ == "Offered")
        for entry in line
    ]


def cancel_slowly(
    shop: Container, bookings: list[UUID], gaps: list[float], done: list[UUID]
) -> None:
    """Free the seats one by one, a moment apart, as customers would."""
    for booking_id, gap in zip(bookings, gaps, strict=True):
        shop.app.handle(CancelBooking(OWNER, booking_id))
        done.append(booking_id)
        time.sleep(gap)


def leased_tasks(shop: Container) -> int:
    """Tasks a worker claimed and never finished (it was killed while running them)."""
    t = waitlist_tasks.c
    with shop.waitlist.runtime.engine.connect() as conn:
        query = select(t.id).where((t.status == "open") & t.lease_until.is_not(None))
        return len(conn.execute(query).all())


def expiry_timers(shop: Container) -> list[Any]:
    with shop.waitlist.runtime.engine.connect() as conn:
        query = select(waitlist_tasks).where(waitlist_tasks.c.kind == "expire_offer")
        return list(conn.execute(query).all())


def test_kill_9_mid_offer_neither_loses_nor_doubles_an_offer(
    shop: Container, store: str, tmp_path: Path, clock: FrozenClock
) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    print(f"seed {seed}")
    app = shop.app
    business_id = app.handle(RegisterBusiness(OWNER, "Courts", "courts", "UTC", CAPACITY)).id
    week = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    app.handle(
        SetHours(OWNER, business_id, [{"day": d, "start": "00:00", "end": "24:00"} for d in week])
    )
    terms = ServiceTerms("Court", 60, Money.of("0", "EUR"))
    service_id = app.handle(CreateService(OWNER, business_id, terms)).id
    start = (clock.now + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    seated = [
        app.handle(PlaceBooking(Actor(f"s{n}", Role.CUSTOMER), service_id, start)).id
        for n in range(CAPACITY)
    ]
    line = [
        app.handle(JoinWaitlist(Actor(f"w{n}", Role.CUSTOMER), service_id, start)).id
        for n in range(LINE)
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTWISE_")} | {
        "SLOTWISE_EVENT_STORE": store,
        "SLOTWISE_READ_DB": store,
        "SLOTWISE_JWT_SECRET": JWT_SECRET,
        "SLOTWISE_WAITLIST_POLL_SECONDS": "0.02",
        "SLOTWISE_WAITLIST_LEASE_SECONDS": "1",
    }
    worker = Worker(env, tmp_path / "waitlist.log")
    per_round = CAPACITY // ROUNDS
    killed_mid_round = mid_task = 0
    done: list[UUID] = []
    try:
        for round_ in range(ROUNDS):
            worker.start()
            wait_for(lambda r=round_: worker.running(r + 1), "the worker to start", worker)
            freed = seated[round_ * per_round : (round_ + 1) * per_round]
            gaps = [rng.uniform(0.05, 0.2) for _ in freed]
            cancels = threading.Thread(target=cancel_slowly, args=(shop, freed, gaps, done))
            cancels.start()
            before = sum(offers(shop, line))
            wait_for(lambda b=before: sum(offers(shop, line)) > b, "this worker's offers", worker)
            time.sleep(rng.uniform(0.0, 0.1))
            worker.kill9()  # while the seats free and it offers them
            freed_so_far, made, leased = len(done), sum(offers(shop, line)), leased_tasks(shop)
            # Mid-offer: seats of the round still freeing, freed and not offered, or a task cut.
            killed_mid_round += freed_so_far < len(seated[: (round_ + 1) * per_round]) or (
                made < freed_so_far or leased > 0
            )
            mid_task += leased > 0
            cancels.join(timeout=60)

        # Then a worker that is left alone offers every seat freed, once, in line order
        # (and answers Prometheus on its metrics port meanwhile).
        port = free_port()
        worker.start("--metrics-port", str(port))
        wait_for(lambda: sum(offers(shop, line)) >= CAPACITY, "every freed seat offered", worker)
        wait_for(lambda: len(expiry_timers(shop)) >= CAPACITY, "every offer's timer", worker)
        time.sleep(0.3)  # a doubled offer would show now
        assert offers(shop, line) == [1] * CAPACITY + [0] * (LINE - CAPACITY)
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert metrics.status_code == 200 and "process_cpu_seconds" in metrics.text
        day = app.repository.get(DayAllocation.create_id(business_id, start.date()))
        assert set(day.held) == set(line[:CAPACITY])
        timers = expiry_timers(shop)
        assert sorted(t.key for t in timers) == sorted(str(e) for e in line[:CAPACITY])
        assert {t.status for t in timers} == {"open"}
        worker.kill9()  # while every offer runs: its timers are rows, not this process's memory
    finally:
        worker.stop()
    print(
        f"{ROUNDS} kills: {killed_mid_round} with seats freed or freeing and not offered, "
        f"{mid_task} in the middle of a task"
    )
    assert killed_mid_round >= 1, "no kill landed while offers were being made"

    # The offers' timers fire in another process manager (this process's, its clock past
    # them), and the seats they free go to the rest of the line, once each.
    clock.now = datetime.now(UTC) + timedelta(minutes=16)
    assert shop.waitlist.tasks.run_due() >= CAPACITY  # the timers (and sweeps left open)
    expired = [app.repository.get(e).status for e in line[:CAPACITY]]
    assert expired == [EntryStatus.EXPIRED] * CAPACITY
    after_restart = WaitlistWorker(shop.waitlist, app)
    while after_restart.step():
        pass
    assert offers(shop, line) == [1] * LINE
