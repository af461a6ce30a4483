"""The relay SIGKILLed at 20 random moments during a burst: every event on Kafka exactly once.

A write thread keeps the event store busy while the leading relay (a real
`slotwise relay` process, small batches so a kill often lands between the
broker's acknowledgement and the saved position) is killed 20 times; a standby
booted beforehand takes the lock and a new standby is started each time (so
the test does not wait for a cold start per kill). Then every topic is read
from offset 0.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter, defaultdict
from itertools import pairwise
from pathlib import Path

import pytest

from infra.bootstrap import Container
from infra.follower import read_log
from infra.kafka.processes import build_relay
from infra.kafka.relay_tables import RELAY
from infra.settings import Settings
from tests.kafka.conftest import Workload, wait_until
from tests.kafka.processes import Process
from tests.kafka_messages import read_topics

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.subprocess, pytest.mark.slow]
TIMEOUT = pytest.mark.timeout(600)  # 21 relay boots: about 60 s on a quiet machine, more when busy

KILLS = 20
PUBLIC = ("business", "service", "booking")
READ_BACK = re.compile(r"read back (\d+) events already in Kafka")


class Burst:
    """Commands as fast as one thread writes them, until stopped (or the calendar is full)."""

    def __init__(self, workload: Workload, most: int = 2_000) -> None:
        self.workload, self.most, self.stop = workload, most, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set() and self.workload.step < self.most:
            self.workload.next()


class Relays:
    """`slotwise relay` processes: one leads, a standby waits for the lock, booted ahead."""

    def __init__(self, settings: Settings, logs: Path) -> None:
        self.settings, self.logs = settings, logs
        self.started: list[tuple[Process, Path]] = []

    def spawn(self) -> None:
        log = self.logs / f"relay{len(self.started)}.log"
        process = Process(["relay"], self.settings, log)
        process.start()
        self.started.append((process, log))

    def alive(self) -> list[tuple[Process, Path]]:
        return [(p, log) for p, log in self.started if p.popen and p.popen.poll() is None]

    def saying(self, words: str) -> list[Process]:
        return [p for p, log in self.alive() if log.exists() and words in log.read_text()]

    def leader(self) -> Process:
        leading = self.saying("is the leader")
        assert len(leading) == 1, leading
        return leading[0]

    def read_backs(self) -> list[int]:
        return [int(n) for _, log in self.started for n in READ_BACK.findall(log.read_text())]

    def stop_all(self) -> None:
        for process, _ in self.alive():
            process.terminate()


@TIMEOUT
def test_a_relay_killed_at_random_moments_publishes_every_event_exactly_once(
    container: Container, settings: Settings, tmp_path: Path
) -> None:
    fast = settings.model_copy(update={"relay_batch_size": 8, "relay_leader_retry_seconds": 0.05})
    relays = Relays(fast, tmp_path)
    watch = build_relay(container)  # never run: reads the relay's saved position
    saved = lambda: watch.runtime.checkpoints("log", 0)[RELAY].offset  # noqa: E731
    written = lambda: int(container.app.recorder.max_notification_id() or 0)  # noqa: E731
    burst = Burst(Workload(container))
    burst.thread.start()
    rng, behind_at_kill = random.Random(), 0
    for _ in range(2):
        relays.spawn()
    try:
        for _ in range(KILLS):
            before = saved()
            wait_until(lambda b=before: saved() > b, 120, "a relay to publish")  # type: ignore[misc]
            wait_until(lambda: len(relays.saying("standby")) >= 1, 120, "a standby")
            time.sleep(rng.uniform(0, 0.15))  # a random moment of its publishing
            behind_at_kill += saved() < written()
            relays.leader().kill()  # a standby takes the lock within 0.05 s and reads back
            relays.spawn()
        burst.stop.set()
        burst.thread.join(timeout=30)
        wait_until(lambda: saved() >= written(), 120, "the relay to catch up")
    finally:
        burst.stop.set()
        relays.stop_all()

    messages = read_topics(settings)
    log = read_log(container.app.recorder, container.app.mapper, 0, 1_000_000)
    expected = [d.envelope.position for d in log if d.envelope.aggregatetype in PUBLIC]
    counts = Counter(m.value["position"] for m in messages)
    duplicates = sum(n - 1 for n in counts.values())
    gaps = len(set(expected) - counts.keys())
    by_key: dict[bytes, list[int]] = defaultdict(list)
    for m in messages:
        by_key[m.key].append(m.value["position"])
    out_of_order = sum(1 for p in by_key.values() if any(a >= b for a, b in pairwise(p)))
    read_backs = relays.read_backs()
    print(
        f"\nrelay crash test: {len(expected)} public events, {len(messages)} records, "
        f"{KILLS} kills, {behind_at_kill} with the relay behind the store, "
        f"{len(read_backs)} takeovers found {sum(read_backs)} events already published "
        f"past the saved position; duplicates {duplicates}, gaps {gaps}, "
        f"keys out of order {out_of_order}"
    )
    assert (duplicates, gaps, out_of_order) == (0, 0, 0)
    assert counts.keys() == set(expected)
    assert read_backs, "no kill landed between an acknowledgement and the saved position"
