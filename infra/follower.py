"""The embedded delivery: the notification log as one source with one partition.

A thread follows the log and hands each batch of envelopes to the consumer
runtime; every consumer resumes from its own checkpoint. It looks when woken
(a write in this process nudges it; on PostgreSQL, a NOTIFY from any process
does, see infra/wakeups.py) and at least every poll interval.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Sequence
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification
from sqlalchemy import inspect, text

from domain.envelope import Envelope, event_id
from infra.consumers.dead_letters import Refetch
from infra.consumers.runtime import (
    Checkpoint,
    CheckpointsBehind,
    ConsumerRuntime,
    Delivery,
    lock_checkpoint,
    save_checkpoint,
    undecodable,
)
from infra.envelopes import envelope_from_record
from infra.wakeups import PostgresWakeups

log = logging.getLogger(__name__)
LOG_SOURCE, LOG_PARTITION = "log", 0


def to_delivery(notification: Notification, mapper: Mapper[UUID]) -> Delivery:
    """The record as an envelope; one that cannot be decoded still travels, to be parked."""
    try:
        envelope = envelope_from_record(notification, mapper)
    except Exception as error:  # an unknown topic or broken state must not stall the log
        envelope = undecodable(
            event_id(notification.originator_id, notification.originator_version),
            str(notification.originator_id),
            {"topic": notification.topic, "error": f"{type(error).__name__}: {error}"},
            notification.id,
            notification.originator_version,
        )
    return Delivery(notification.id, envelope)


def read_log(
    recorder: ApplicationRecorder, mapper: Mapper[UUID], after: int, limit: int
) -> list[Delivery]:
    notifications = recorder.select_notifications(
        start=after, limit=limit, inclusive_of_start=False
    )
    return [to_delivery(n, mapper) for n in notifications]


class LogReader:
    """The notification log as envelopes, for readers outside the delivery (live events)."""

    def __init__(self, recorder: ApplicationRecorder, mapper: Mapper[UUID]) -> None:
        self.recorder, self.mapper = recorder, mapper

    def max_notification_id(self) -> int | None:
        return self.recorder.max_notification_id()

    def read(self, after: int, limit: int) -> tuple[int, list[Envelope]]:
        """Up to `limit` records after `after`: the last position read, and their envelopes."""
        deliveries = read_log(self.recorder, self.mapper, after, limit)
        last = deliveries[-1].offset if deliveries else after
        return last, [d.envelope for d in deliveries]


def catch_up(
    recorder: ApplicationRecorder,
    mapper: Mapper[UUID],
    runtime: ConsumerRuntime,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
    *,
    resume: bool = False,
) -> int:
    """Deliver everything recorded so far; returns how many records were read.

    `resume`: start where this runtime's last pass left every consumer, without reading
    their checkpoints first (the pass still locks them, and reads them first after all if
    one was set back meanwhile): what the follower does when a write woke it."""
    left_at = runtime.left_at(LOG_SOURCE, LOG_PARTITION) if resume else None
    if left_at is not None:
        deliver = functools.partial(runtime.deliver, one_transaction=True, after=left_at)
        try:
            return replay(recorder, mapper, deliver, left_at, batch_size, progress)
        except CheckpointsBehind:
            log.info("a consumer's checkpoint was set back: reading from the checkpoints")
    reached = runtime.checkpoints(LOG_SOURCE, LOG_PARTITION).values()
    cursor = max(0, min((c.offset for c in reached), default=0))
    # One commit per batch for all consumers: a read waits for the last of them.
    deliver = functools.partial(runtime.deliver, one_transaction=True)
    return replay(recorder, mapper, deliver, cursor, batch_size, progress)


def replay(
    recorder: ApplicationRecorder,
    mapper: Mapper[UUID],
    deliver: Callable[[str, int, Sequence[Delivery]], None],
    after: int,
    batch_size: int,
    progress: Callable[[int], None] | None = None,
    admits: Callable[[Delivery], bool] | None = None,
) -> int:
    """Hand the log after `after` to `deliver`, batch by batch; how many records were read.
    With `admits`, stop before the first record it refuses (and never go past it)."""
    cursor = after
    delivered = 0
    while batch := read_log(recorder, mapper, cursor, batch_size):
        kept = batch if admits is None else _while_admitted(batch, admits)
        if kept:
            deliver(LOG_SOURCE, LOG_PARTITION, kept)
            delivered += len(kept)
            if progress is not None:
                progress(len(kept))
        if len(kept) < len(batch) or len(batch) < batch_size:  # a stop, or the log's end
            break
        cursor = batch[-1].offset
    return delivered


def _while_admitted(
    batch: Sequence[Delivery], admits: Callable[[Delivery], bool]
) -> Sequence[Delivery]:
    for index, delivery in enumerate(batch):
        if not admits(delivery):
            return batch[:index]
    return batch


def adopt_legacy_tracking(runtime: ConsumerRuntime) -> int:
    """Start each projector where release 0.1's `projection_tracking` row left it.

    Without this an upgraded store would replay the whole log onto read models
    that already hold it. Returns how many checkpoints were adopted.
    """
    with runtime.engine.begin() as conn:
        if not inspect(conn).has_table("projection_tracking"):
            return 0
        legacy = conn.execute(text("SELECT projector, position FROM projection_tracking")).all()
        known = {c.name for c in runtime.consumers}
        adopted = 0
        for name, position in legacy:
            if name in known:
                current = lock_checkpoint(conn, name, LOG_SOURCE, LOG_PARTITION)
                if current.offset < position:
                    reached = Checkpoint(position, position)
                    save_checkpoint(conn, name, LOG_SOURCE, LOG_PARTITION, reached)
                    adopted += 1
        conn.execute(text("DROP TABLE projection_tracking"))
    return adopted


def refetch_from_log(recorder: ApplicationRecorder, mapper: Mapper[UUID]) -> Refetch:
    """Re-read a dead letter's record from the log (say, after a decoder was fixed)."""

    def refetch(source: str, partition: int, offset: int) -> Envelope | None:
        if (source, partition) != (LOG_SOURCE, LOG_PARTITION):
            return None
        found = read_log(recorder, mapper, offset - 1, 1)
        return found[0].envelope if found and found[0].offset == offset else None

    return refetch


class CheckpointProgress:
    """Read progress on the embedded stack: the consumers' own checkpoints on the log."""

    def __init__(
        self,
        runtime: ConsumerRuntime,
        wake: Callable[[], None],
        passes: Callable[[Callable[[], None]], bool] = lambda _: False,
    ) -> None:
        self.runtime, self.wake, self.passes = runtime, wake, passes

    def reached(self, consumers: tuple[str, ...]) -> int:
        """The log position that all of `consumers` reflect."""
        found = self.runtime.checkpoints(LOG_SOURCE, LOG_PARTITION)
        return min((found[name].position for name in consumers), default=0)

    def hurry(self) -> None:
        """A reader is waiting: the follower looks now rather than at its next poll."""
        self.wake()

    def after_next_pass(self, callback: Callable[[], None]) -> bool:
        """Call `callback` (in the follower's thread) when its next pass ends; False when no
        follower runs in this process, and the reader polls."""
        return self.passes(callback)


class Follower:
    """Polls the notification log and hands new events to the runtime until stopped."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        mapper: Mapper[UUID],
        runtime: ConsumerRuntime,
        poll_seconds: float = 0.05,
        wakeups: PostgresWakeups | None = None,
    ) -> None:
        self.recorder, self.mapper, self.runtime = recorder, mapper, runtime
        self.poll_seconds = poll_seconds
        self.wakeups = wakeups
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        # Called (in the follower's thread) after a pass that was woken or delivered something.
        self.listeners: list[Callable[[], None]] = []
        self._after_pass: list[Callable[[], None]] = []
        self._after_pass_lock = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="slotwise-follower", daemon=True)
        self._thread.start()
        if self.wakeups is not None:
            self.wakeups.start(self.nudge)

    def nudge(self) -> None:
        """Something was just written: look now rather than at the next poll."""
        self._wake.set()

    def after_next_pass(self, callback: Callable[[], None]) -> None:
        """Call `callback` once, in the follower's thread, when its next pass ends
        (a read waiting for its write is woken then, rather than polling)."""
        with self._after_pass_lock:
            self._after_pass.append(callback)

    def _passed(self) -> None:
        with self._after_pass_lock:
            waiting, self._after_pass = self._after_pass, []
        for callback in waiting:
            try:
                callback()
            except Exception:  # one waiter's trouble must not stop the follower
                log.exception("a follower pass callback failed")

    def stop(self) -> None:
        if self.wakeups is not None:
            self.wakeups.stop()
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        woken = True
        while not self._stop.is_set():
            try:
                # Woken by a write: from where the last pass left off (a timed poll reads
                # the checkpoints, and so notices one set back by another process).
                delivered = catch_up(self.recorder, self.mapper, self.runtime, resume=woken)
            except Exception:  # the database went away: the next poll resumes from checkpoints
                log.exception("projection follower failed; retrying")
                self._stop.wait(1.0)
                delivered = 0
            # Woken means something was written, perhaps projected by another process.
            self._passed()
            if delivered or woken:
                for listener in self.listeners:
                    listener()
            woken = self._wake.wait(self.poll_seconds)
            self._wake.clear()
