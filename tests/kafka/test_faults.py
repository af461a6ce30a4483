"""Faults under steady load: the relay and a projector worker SIGKILLed and restarted.

Afterwards the read models equal a rebuild from the event store, with nothing
parked: no event was lost, none applied twice.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from infra.bootstrap import Container, bootstrap
from infra.follower import catch_up
from infra.kafka import publisher
from infra.kafka.processes import build_relay, build_worker
from infra.settings import Settings
from projections import all_projectors
from projections.tables import availability_stamps, metadata
from tests.conftest import drop_schema, new_schema
from tests.kafka.conftest import Threads, Workload, wait_until
from tests.kafka.processes import Process
from tests.kafka_messages import read_topics

pytestmark = [pytest.mark.subprocess, pytest.mark.slow]
ALL = tuple(projector.name for projector in all_projectors())


def read_models(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model table's rows (the cache stamps are random by design: left out)."""
    with container.read_db.reader.connect() as conn:
        return {
            t.name: sorted(tuple(map(repr, r)) for r in conn.execute(select(t)))
            for t in metadata.sorted_tables
            if t is not availability_stamps
        }


def rebuilt(settings: Settings, postgres_dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    """The read models built from scratch from the event store, in a schema of their own."""
    schema = new_schema(postgres_dsn)
    try:
        fresh = settings.model_copy(update={"read_db": f"{postgres_dsn}?schema={schema}"})
        container = bootstrap(fresh.model_copy(update={"kafka": ""}))
        try:
            catch_up(container.app.recorder, container.app.mapper, container.runtime)
            return read_models(container)
        finally:
            container.close()
    finally:
        drop_schema(postgres_dsn, schema)


class SteadyLoad:
    """Commands at a steady pace from a thread until stopped."""

    def __init__(self, workload: Workload, per_second: float) -> None:
        self.workload, self.pause = workload, 1 / per_second
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            self.workload.next()
            self.stop.wait(self.pause)

    def commands(self, count: int) -> None:
        """Wait until `count` more commands have run (counted, not timed: a busy machine
        only slows the test down)."""
        target = self.workload.step + count
        wait_until(lambda: self.workload.step >= target, 60, f"{count} more commands")


def test_killing_the_relay_and_a_worker_under_load_loses_and_doubles_nothing(
    container: Container, settings: Settings, postgres_dsn: str, tmp_path: Path
) -> None:
    relay = Process(["relay"], settings, tmp_path / "relay.log")
    standby = Process(["relay"], settings, tmp_path / "standby.log")  # takes over when it can
    workers = [Process(["project"], settings, tmp_path / f"worker{n}.log") for n in (1, 2)]
    for process in (relay, standby, *workers):
        process.start()
    load = SteadyLoad(Workload(container), per_second=40)
    load.thread.start()
    chance = random.Random(6)
    try:
        for victim in (relay, workers[0], standby, workers[1], relay, standby, workers[0]):
            load.commands(chance.randint(12, 60))  # a random moment under load
            victim.kill()
            load.commands(chance.randint(0, 20))  # down while that many more commands run
            victim.start()
    finally:
        load.stop.set()
        load.thread.join(timeout=10)
    written = container.app.recorder.max_notification_id() or 0
    assert written > 100

    try:
        wait_until(lambda: container.reached(ALL) >= written, 90, "the read side to catch up")
    finally:
        for process in (relay, standby, *workers):
            process.kill()

    assert container.dead_letters.count() == 0  # a doubled event would have been parked
    assert read_models(container) == rebuilt(settings, postgres_dsn)


@pytest.mark.parametrize("command", [["relay"], ["project"]])
def test_sigterm_drains_and_exits_cleanly(
    command: list[str], container: Container, settings: Settings, tmp_path: Path
) -> None:
    load = Workload(container)
    for _ in range(10):
        load.next()
    process = Process(command, settings, tmp_path / "process.log")
    process.start()
    written = container.app.recorder.max_notification_id() or 0
    if command == ["relay"]:
        wait_until(lambda: container.reached(()) >= written, 60, "the relay")
    else:
        process_relay = Process(["relay"], settings, tmp_path / "relay.log")
        process_relay.start()
        try:
            wait_until(lambda: container.reached(ALL) >= written, 60, "the worker")
        finally:
            process_relay.kill()

    assert process.terminate() == 0


def test_a_relay_that_dies_after_the_acknowledgements_publishes_each_event_once(
    container: Container,
    settings: Settings,
    postgres_dsn: str,
    threads: Threads,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load = Workload(container)
    for _ in range(30):
        load.next()
    crashes = iter([True, True, False])
    real = publisher.record_published

    def crash_after_the_broker_acknowledged(*args: Any) -> None:
        if next(crashes, False):  # as if killed between the acknowledgements and the commit
            raise OperationalError("record", {}, Exception("the relay died here"))
        real(*args)

    monkeypatch.setattr(publisher, "record_published", crash_after_the_broker_acknowledged)
    for build in (build_relay, build_worker, build_worker):
        process_container = bootstrap(settings)
        threads.start(build(process_container), process_container)
    written = container.app.recorder.max_notification_id() or 0

    wait_until(lambda: container.reached(ALL) >= written, 60, "the read side to catch up")

    copies = Counter(m.value["id"] for m in read_topics(settings))
    # Twice it "died" before saving its position: each restart read the partitions back and
    # went on after what they already held (infra/kafka/readback.py), so nothing is doubled.
    assert set(copies.values()) == {1}
    assert container.dead_letters.count() == 0
    assert read_models(container) == rebuilt(settings, postgres_dsn)
