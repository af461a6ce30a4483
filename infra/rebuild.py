"""Rebuilding read models: replay the whole log into freshly reset consumers, in big batches.

Each batch of envelopes goes to each consumer in one transaction with its
checkpoint; projectors fold it in memory and write it with multi-row upserts
(`projections.workspace`). A batch that fails is applied again event by event,
so a bad event is parked and the rest still lands.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper

from infra.consumers.runtime import ConsumerRuntime, Delivery
from infra.follower import replay

BATCH_SIZE = 2000


@dataclass(frozen=True)
class Horizon:
    """Where a replay of the past ends: the last position, and the last recorded time, it takes."""

    position: int | None = None
    time: datetime | None = None

    def admits(self, delivery: Delivery) -> bool:
        if self.position is not None and delivery.offset > self.position:
            return False
        # An undecodable record has no time; it is replayed (and parked) like any other.
        envelope = delivery.envelope
        return self.time is None or not envelope.time or envelope.occurred_at <= self.time


def rebuild(
    recorder: ApplicationRecorder,
    mapper: Mapper[UUID],
    runtime: ConsumerRuntime,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    horizon: Horizon | None = None,
) -> int:
    """Reset every consumer of `runtime` and replay the log into it; how many records were read.

    With a `horizon`, the replay stops at the first record it does not admit: positions
    rise with commit order, so what follows is later still.
    """
    for consumer in runtime.consumers:
        runtime.reset(consumer)
    admits = None if horizon is None else horizon.admits
    return replay(recorder, mapper, runtime.deliver_through, 0, batch_size, progress, admits)


@dataclass
class PlainProgress:
    """Progress as a line every few seconds, for logs and pipes (no TTY)."""

    total: int
    every: float = 2.0
    out: TextIO = field(default_factory=lambda: sys.stderr)
    clock: Callable[[], float] = time.monotonic
    done: int = 0

    def __post_init__(self) -> None:
        self.started = self.last = self.clock()

    def advance(self, n: int) -> None:
        self.done += n
        now = self.clock()
        if now - self.last >= self.every or self.done >= self.total:
            self.last = now
            print(self.line(now), file=self.out, flush=True)

    def line(self, now: float) -> str:
        rate = self.done / max(now - self.started, 1e-9)
        share = self.done / self.total if self.total else 1.0
        eta = max(self.total - self.done, 0) / rate if rate else 0.0
        return (
            f"rebuild: {self.done}/{self.total} events ({share:.0%}), "
            f"{rate:,.0f} events/s, ETA {eta:.0f}s"
        )
