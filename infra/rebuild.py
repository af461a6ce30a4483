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
from typing import TextIO
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper

from infra.consumers.runtime import ConsumerRuntime
from infra.follower import replay

BATCH_SIZE = 2000


def rebuild(
    recorder: ApplicationRecorder,
    mapper: Mapper[UUID],
    runtime: ConsumerRuntime,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Reset every consumer of `runtime` and replay the log into it; how many records were read."""
    for consumer in runtime.consumers:
        runtime.reset(consumer)
    return replay(recorder, mapper, runtime.deliver_through, 0, batch_size, progress)


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
