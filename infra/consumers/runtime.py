"""Delivering envelopes to consumers with exactly-once effects, bounded retries and parking.

A consumer is plain code: `apply(conn, envelope)` makes its effects on `conn`.
For each consumer and each batch from one (source, partition) the runtime
opens one transaction that holds the consumer's effects *and* its checkpoint,
so a crash or a redelivery never loses or doubles an effect. Each consumer has
its own transaction and its own checkpoints: one failing consumer never holds
back another.

An event whose `apply` raises is rolled back alone (a savepoint) and retried
with backoff; after `max_attempts` it is parked in the dead-letter table and
the consumer goes on. Later events of the same aggregate for that consumer are
held behind it (also in the dead-letter table), so no consumer applies one
aggregate's events out of order. Errors of the database itself (it went away,
it is locked), and `Unavailable` raised by a consumer whose sink is down (the
relay's Kafka), are not the event's fault: the batch rolls back and is retried.

A consumer that sets `serial = True` gets one batch at a time across all its
sources and partitions (its rows are shared between aggregates).

The log follower delivers to every consumer in one transaction (`one_transaction`):
the checkpoints are locked, read and saved with one statement each for all
consumers, and a consumer with nothing to apply in the batch costs no
statement. The others fold their batch without a savepoint; when one fails the
pass is done again with that consumer in a savepoint of its own, so one whose
work fails even with a database error (a broken projector on SQLite raises
`OperationalError`) is rolled back and paused alone while the others commit. A
runtime over `rebuildable` effects (the read models) commits there without
waiting for PostgreSQL to flush (`synchronous_commit = off`): see
`ConsumerRuntime`.

A consumer may define `before_commit(conn)`: it runs after the batch's effects
and checkpoint are written and before the commit, and if it raises the batch
rolls back (the relay flushes its producer there, so its position is saved only
once the broker acknowledged everything up to it).

Within one (source, partition) global positions only grow, except for copies
of events a producer published again after a crash; a delivery at or below the
position the consumer reached there is such a copy and is skipped.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    bindparam,
    delete,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from domain.envelope import Envelope
from infra.consumers.tables import checkpoints, dead_letters, metadata
from infra.envelopes import envelope_to_json

log = logging.getLogger(__name__)


class Unavailable(Exception):
    """A consumer's sink is down (not the event's fault): roll the batch back, retry later."""


TRANSIENT = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout, Unavailable)
# The type a delivery gets when its record could not be decoded into an envelope.
UNDECODABLE = "slotwise.undecodable"
PARKED, HELD = "parked", "held"


def undecodable(
    id: str, subject: str, data: dict[str, Any], position: int = 0, version: int = 0
) -> Envelope:
    """The stand-in for a record no envelope came from: it travels only to be parked."""
    return Envelope(
        id=id,
        type=UNDECODABLE,
        subject=subject,
        time="",
        data=data,
        position=position,
        aggregatetype="",
        aggregateversion=version,
        schemaversion=0,
        actorid="",
        actorrole="",
        correlationid="",
        causationid="",
    )


class _Guard(Exception):
    """A consumer's batch failed outside a savepoint: do the pass again, it in a savepoint."""

    def __init__(self, consumer: str) -> None:
        super().__init__(consumer)
        self.consumer = consumer


class CheckpointsBehind(Exception):
    """A pass read from where this runtime last left its consumers, and found a checkpoint
    before it: another process set it back (a rebuild). Nothing was written."""


# The last offset of a consumer that consumed nothing yet (Kafka offsets start at 0).
NOTHING_YET = -1


class Consumer(Protocol):
    """What the runtime feeds: projectors today; the relay, sagas and notifiers too."""

    @property
    def name(self) -> str: ...

    @property
    def tables(self) -> Sequence[Table]: ...

    def handles(self, event_type: str) -> bool: ...

    def apply(self, conn: Connection, envelope: Envelope) -> None: ...


@dataclass(frozen=True)
class Delivery:
    """One envelope at `offset` of its (source, partition)."""

    offset: int
    envelope: Envelope


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failing event is retried before it is parked."""

    max_attempts: int = 5
    first_backoff: float = 0.05
    max_backoff: float = 5.0

    def backoff(self, attempts: int) -> float:
        return float(min(self.first_backoff * 2 ** (attempts - 1), self.max_backoff))


@dataclass
class Failure:
    attempts: int
    first_failed_at: datetime
    error: str


@dataclass(frozen=True)
class Checkpoint:
    offset: int
    position: int


@dataclass(frozen=True)
class IdleStretch:
    """Records after offset `since`, up to `until`, that no consumer reacts to."""

    since: int
    until: Checkpoint


def utc_now() -> datetime:
    return datetime.now(UTC)


class ConsumerRuntime:
    """Applies deliveries to every consumer, each in its own transaction with its checkpoint.

    `rebuildable`: the consumers' effects can be made again from the log (read
    models), so the follower's shared transaction commits with PostgreSQL's
    `synchronous_commit = off`. A server crash may then lose the last few of those
    commits (never a part of one: effects and checkpoint are one transaction, and
    WAL replay keeps a prefix of the commits); the consumers resume from the
    checkpoint that survived and apply the lost events again. Nothing with effects
    outside its database (the relay, sagas, notifiers) may set it.
    """

    def __init__(
        self,
        engine: Engine,
        consumers: Iterable[Consumer],
        retry: RetryPolicy | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        rebuildable: bool = False,
        reader: Engine | None = None,
        idle_save_seconds: float | None = None,
    ) -> None:
        self.engine = engine
        # Where progress is read: on SQLite the writer engine takes the write lock at BEGIN,
        # so every read of the checkpoints (each read with a consistency token, each pass)
        # queued behind the follower's transaction, and the follower behind them.
        self.reader = reader or engine
        self.consumers = list(consumers)
        self.retry = retry or RetryPolicy()
        self.monotonic = monotonic
        self.rebuildable = rebuildable
        self._failures: dict[tuple[str, str, int, int], Failure] = {}
        self._paused_until: dict[str, float] = {}
        self._troubles: dict[str, int] = {}  # consecutive database errors, per consumer
        # `idle_save_seconds`: progress over records no consumer reacts to is kept here and
        # written with the next pass that has work, or once that many seconds have passed
        # (see `_idle_through`); None: written with every pass.
        self.idle_save_seconds = idle_save_seconds
        self._idle: dict[tuple[str, int], IdleStretch] = {}
        self._saved_at: dict[tuple[str, int], float] = {}
        # Where the last pass left every consumer of (source, partition), when it did.
        self._left_at: dict[tuple[str, int], int] = {}

    def setup(self) -> None:
        metadata.create_all(self.engine)

    def consumer(self, name: str) -> Consumer:
        for consumer in self.consumers:
            if consumer.name == name:
                return consumer
        known = ", ".join(c.name for c in self.consumers)
        raise KeyError(f"unknown consumer {name!r}; known: {known}")

    def only(self, names: Iterable[str]) -> ConsumerRuntime:
        """A runtime over some of these consumers, sharing the database and retry policy."""
        chosen = [self.consumer(n) for n in names]
        return ConsumerRuntime(
            self.engine, chosen, self.retry, rebuildable=self.rebuildable, reader=self.reader
        )

    # -- delivery ---------------------------------------------------------------------

    def deliver(
        self,
        source: str,
        partition: int,
        deliveries: Sequence[Delivery],
        *,
        one_transaction: bool = False,
        after: int | None = None,
    ) -> None:
        """Apply `deliveries` to every consumer not paused, each with its checkpoint.

        `after`: the batch was read after this offset, where this runtime left every
        consumer (`left_at`) rather than where their checkpoints say: a checkpoint found
        before it raises CheckpointsBehind (one transaction only), and nothing is written.

        `one_transaction`: all consumers in one transaction, each in its own
        savepoint (a consumer's failure still rolls back only its own work), so a
        pass costs one commit rather than one per consumer: what the log follower
        does, as a read waiting for its write waits for the slowest consumer's commit.
        """
        if self._idle_through(source, partition, deliveries):
            return
        ready = [
            c for c in self.consumers if self.monotonic() >= self._paused_until.get(c.name, 0.0)
        ]
        if not one_transaction:
            for consumer in ready:
                self._deliver_to(consumer, source, partition, deliveries)
            self._saved(source, partition)
            return
        guarded: set[str] = set()  # consumers whose batch failed: in a savepoint this time
        key = (source, partition)
        while ready:
            try:
                with self.engine.begin() as conn:
                    if self.rebuildable and conn.dialect.name == "postgresql":
                        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                    reached = self._deliver_together(
                        conn, ready, source, partition, deliveries, guarded, after
                    )
            except _Guard as failed:  # at most once per consumer: a guarded one never raises it
                guarded.add(failed.consumer)
                continue
            except BaseException:
                self._left_at.pop(key, None)
                raise
            self._saved(source, partition)
            # Every consumer now stands at the batch's end: the next pass may read from there.
            last = deliveries[-1].offset
            everyone = len(reached) == len(self.consumers)
            if everyone and all(r.offset >= last for r in reached.values()):
                self._left_at[key] = last
            else:  # one paused or stopped short: its checkpoint says where to read from
                self._left_at.pop(key, None)
            return

    def left_at(self, source: str, partition: int) -> int | None:
        """Where this runtime's last pass left every consumer, if it did; None: read their
        checkpoints."""
        return self._left_at.get((source, partition))

    def _idle_through(self, source: str, partition: int, deliveries: Sequence[Delivery]) -> bool:
        """Whether `deliveries` only extend a stretch of records no consumer reacts to, its
        progress kept in this process rather than written (with `idle_save_seconds`).

        A process manager reacts to a few event types among many: writing its checkpoints
        in a transaction of their own for each record of the log cost the embedded stack a
        few milliseconds of every write's way to the read side (docs/benchmarks.md). The
        stretch is written with the next pass that has work, or when `idle_save_seconds`
        have passed since the last write; a process that stops before then reads it again,
        and again finds nothing to do in it.
        """
        if self.idle_save_seconds is None or not deliveries:
            return False
        key = (source, partition)
        now = self.monotonic()
        if now - self._saved_at.setdefault(key, now) >= self.idle_save_seconds:
            return False
        for delivery in deliveries:
            kind = delivery.envelope.type
            if kind == UNDECODABLE or any(c.handles(kind) for c in self.consumers):
                return False
        until = Checkpoint(deliveries[-1].offset, max(d.envelope.position for d in deliveries))
        found = self._idle.get(key)
        if found is not None and deliveries[0].offset > found.until.offset:
            self._idle[key] = IdleStretch(found.since, until)
            return True
        # A new stretch, from the checkpoint furthest behind: every record after it up to the
        # batch's first was read with the batch (offsets may have gaps; none is skipped).
        self._idle.pop(key, None)
        stored = self.checkpoints(source, partition)
        since = min((at.offset for at in stored.values()), default=NOTHING_YET)
        self._idle[key] = IdleStretch(since, until)
        return True

    def _saved(self, source: str, partition: int) -> None:
        """A pass wrote its checkpoints: nothing idle is left unwritten before them."""
        if self.idle_save_seconds is not None:
            self._idle.pop((source, partition), None)
            self._saved_at[(source, partition)] = self.monotonic()

    def _deliver_together(
        self,
        conn: Connection,
        ready: Sequence[Consumer],
        source: str,
        partition: int,
        deliveries: Sequence[Delivery],
        guarded: set[str],
        after: int | None = None,
    ) -> dict[str, Checkpoint]:
        """Every consumer's share of one transaction; the bookkeeping in one statement each.
        Returns where each consumer got to."""
        names = [c.name for c in ready]
        lock_consumers(conn, [c.name for c in ready if getattr(c, "serial", False)])
        starts = lock_checkpoints(conn, names, source, partition)
        if after is not None and any(start.offset < after for start in starts.values()):
            raise CheckpointsBehind(f"a checkpoint of ({source}, {partition}) is before {after}")
        parked = parked_by_consumer(conn, names)
        reached: dict[str, Checkpoint] = {}
        for consumer in ready:
            start, held = starts[consumer.name], parked.get(consumer.name, set())
            try:
                reached[consumer.name] = self._apply_alone(
                    conn, consumer, source, partition, start, deliveries, held, guarded
                )
            except TRANSIENT as error:
                if len(ready) == 1 or conn.invalidated or not conn.in_transaction():
                    raise  # alone, or the connection itself is gone: the pass is retried
                self._pause_alone(consumer, error)
        moved = {name: r for name, r in reached.items() if r != starts[name]}
        save_checkpoints(conn, source, partition, moved)
        for consumer in ready:
            before_commit: Callable[[Connection], None] | None = getattr(
                consumer, "before_commit", None
            )
            if before_commit is not None and consumer.name in reached:
                before_commit(conn)
        return reached

    def _apply_alone(
        self,
        conn: Connection,
        consumer: Consumer,
        source: str,
        partition: int,
        start: Checkpoint,
        deliveries: Sequence[Delivery],
        parked: set[str],
        guarded: set[str],
    ) -> Checkpoint:
        """One consumer's part of a shared transaction.

        Its batch first runs without a savepoint (on PostgreSQL a savepoint and its release
        are two round trips per consumer per pass); if it fails, `_Guard` aborts the pass,
        which is done again with this consumer `guarded`: in a savepoint of its own, rolled
        back alone, a database error raised after that rollback.
        """
        if not self._has_work(consumer, start, deliveries):
            return self._apply_one_by_one(
                conn, consumer, source, partition, start, deliveries, parked
            )
        plan = batch_plan(consumer, start, deliveries, parked)
        if plan is not None and consumer.name not in guarded:
            try:
                consumer.apply_batch(conn, plan[1])  # type: ignore[attr-defined]
            except Exception as error:
                log.info("consumer %s: batch failed (%s); again, guarded", consumer.name, error)
                raise _Guard(consumer.name) from error
            self._troubles.pop(consumer.name, None)
            return plan[0]
        if plan is not None:
            reached, fresh = plan
            savepoint = conn.begin_nested()
            try:
                consumer.apply_batch(conn, fresh)  # type: ignore[attr-defined]
            except TRANSIENT:
                savepoint.rollback()
                raise
            except Exception as error:
                savepoint.rollback()
                log.info(
                    "consumer %s: batch failed (%s); going event by event", consumer.name, error
                )
            else:
                savepoint.commit()
                self._troubles.pop(consumer.name, None)
                return reached
        with conn.begin_nested():
            reached = self._apply_one_by_one(
                conn, consumer, source, partition, start, deliveries, parked
            )
        self._troubles.pop(consumer.name, None)
        return reached

    def _has_work(
        self, consumer: Consumer, start: Checkpoint, deliveries: Sequence[Delivery]
    ) -> bool:
        """Whether any delivery past `start` is for this consumer (to apply, hold or park)."""
        return any(
            d.offset > start.offset
            and not is_republished(d, start)
            and (d.envelope.type == UNDECODABLE or consumer.handles(d.envelope.type))
            for d in deliveries
        )

    def _pause_alone(self, consumer: Consumer, error: Exception) -> None:
        """A database error in one consumer's work: it waits (backing off), the others go on."""
        troubles = self._troubles[consumer.name] = self._troubles.get(consumer.name, 0) + 1
        pause = self.retry.backoff(troubles)
        self._paused_until[consumer.name] = self.monotonic() + pause
        log.warning(
            "consumer %s paused %.2fs after a database error (%d in a row): %s",
            consumer.name,
            pause,
            troubles,
            f"{type(error).__name__}: {error}"[:500],
        )

    def deliver_through(self, source: str, partition: int, deliveries: Sequence[Delivery]) -> None:
        """Deliver the whole batch to every consumer now, retrying without pauses (rebuilds).

        An event that keeps failing is parked after `max_attempts`, as on the live path;
        errors of the database itself propagate.
        """
        if not deliveries:
            return
        last = deliveries[-1].offset
        for consumer in self.consumers:
            for _ in range(self.retry.max_attempts * len(deliveries) + 1):
                if self._deliver_to(consumer, source, partition, deliveries).offset >= last:
                    break
            self._paused_until.pop(consumer.name, None)

    def _deliver_to(
        self, consumer: Consumer, source: str, partition: int, deliveries: Sequence[Delivery]
    ) -> Checkpoint:
        with self.engine.begin() as conn:
            return self._deliver_in(conn, consumer, source, partition, deliveries)

    def _deliver_in(
        self,
        conn: Connection,
        consumer: Consumer,
        source: str,
        partition: int,
        deliveries: Sequence[Delivery],
    ) -> Checkpoint:
        if getattr(consumer, "serial", False):
            lock_consumer(conn, consumer.name)
        start = lock_checkpoint(conn, consumer.name, source, partition)
        parked = parked_aggregates(conn, consumer.name)
        reached = self._apply_batch(conn, consumer, start, deliveries, parked)
        if reached is None:
            reached = self._apply_one_by_one(
                conn, consumer, source, partition, start, deliveries, parked
            )
        if reached != start:
            save_checkpoint(conn, consumer.name, source, partition, reached)
        before_commit: Callable[[Connection], None] | None = getattr(
            consumer, "before_commit", None
        )
        if before_commit is not None:
            before_commit(conn)
        return reached

    def _apply_batch(
        self,
        conn: Connection,
        consumer: Consumer,
        start: Checkpoint,
        deliveries: Sequence[Delivery],
        parked: set[str],
    ) -> Checkpoint | None:
        """Fold the whole batch at once if the consumer can; None to go event by event.

        A failure rolls the batch back to its savepoint: event by event, the runtime
        then finds the culprit, retries and parks it, and applies the rest.
        """
        if len(deliveries) < 2:
            return None
        plan = batch_plan(consumer, start, deliveries, parked)
        if plan is None:
            return None
        reached, fresh = plan
        apply_batch: Callable[[Connection, list[Envelope]], None] = consumer.apply_batch  # type: ignore[attr-defined]
        try:
            with conn.begin_nested():
                apply_batch(conn, fresh)
        except TRANSIENT:
            raise
        except Exception as error:
            log.info("consumer %s: batch failed (%s); going event by event", consumer.name, error)
            return None
        return reached

    def _apply_one_by_one(
        self,
        conn: Connection,
        consumer: Consumer,
        source: str,
        partition: int,
        start: Checkpoint,
        deliveries: Sequence[Delivery],
        parked: set[str],
    ) -> Checkpoint:
        reached = start
        for delivery in deliveries:
            if delivery.offset <= reached.offset:
                continue  # redelivered: its effect is already in
            if is_republished(delivery, reached):
                reached = Checkpoint(delivery.offset, reached.position)
                continue
            if not self._consume(conn, consumer, source, partition, delivery, parked):
                break  # retry it after a pause; keep what came before
            position = max(reached.position, delivery.envelope.position)
            reached = Checkpoint(delivery.offset, position)
        return reached

    def _consume(
        self,
        conn: Connection,
        consumer: Consumer,
        source: str,
        partition: int,
        delivery: Delivery,
        parked: set[str],
    ) -> bool:
        """Apply, hold or park one delivery; False when it must be retried later."""
        envelope = delivery.envelope
        undecodable = envelope.type == UNDECODABLE
        if not undecodable and not consumer.handles(envelope.type):
            return True
        if envelope.subject in parked:
            reason = "waits behind an earlier parked event of the same aggregate"
            self._park(conn, consumer, source, partition, delivery, HELD, reason, attempts=0)
            return True
        key = (consumer.name, source, partition, delivery.offset)
        try:
            if undecodable:
                raise ValueError(str(envelope.data.get("error", "the record could not be decoded")))
            with conn.begin_nested():
                consumer.apply(conn, envelope)
        except TRANSIENT:
            raise  # the database, not the event: roll the batch back and retry it
        except Exception as error:
            failure = self._note_failure(key, error)
            if failure.attempts < self.retry.max_attempts and not undecodable:
                pause = self.retry.backoff(failure.attempts)
                self._paused_until[consumer.name] = self.monotonic() + pause
                log.warning(
                    "consumer %s failed on %s (attempt %d): %s",
                    consumer.name,
                    envelope.id,
                    failure.attempts,
                    failure.error,
                )
                return False
            self._park(
                conn,
                consumer,
                source,
                partition,
                delivery,
                PARKED,
                failure.error,
                attempts=failure.attempts,
                first_failed_at=failure.first_failed_at,
            )
            log.error("consumer %s parked %s: %s", consumer.name, envelope.id, failure.error)
            parked.add(envelope.subject)
        self._failures.pop(key, None)
        return True

    def _note_failure(self, key: tuple[str, str, int, int], error: Exception) -> Failure:
        text = f"{type(error).__name__}: {error}"[:2000]
        failure = self._failures.get(key)
        if failure is None:
            failure = self._failures[key] = Failure(0, utc_now(), text)
        failure.attempts += 1
        failure.error = text
        return failure

    def _park(
        self,
        conn: Connection,
        consumer: Consumer,
        source: str,
        partition: int,
        delivery: Delivery,
        status: str,
        error: str,
        *,
        attempts: int,
        first_failed_at: datetime | None = None,
    ) -> None:
        envelope, now = delivery.envelope, utc_now()
        conn.execute(
            dead_letters.insert().values(
                consumer=consumer.name,
                source=source,
                partition=partition,
                source_offset=delivery.offset,
                position=envelope.position,
                event_id=envelope.id,
                event_type=envelope.type,
                aggregate_id=envelope.subject,
                envelope=envelope_to_json(envelope).decode(),
                status=status,
                error=error,
                attempts=attempts,
                first_failed_at=first_failed_at or now,
                last_failed_at=now,
            )
        )

    # -- reading progress ---------------------------------------------------------------

    def checkpoints(self, source: str, partition: int) -> dict[str, Checkpoint]:
        """Each consumer's checkpoint in (source, partition), before the first offset if none."""
        with self.reader.connect() as conn:
            rows = conn.execute(_PROGRESS, {"in_source": source, "in_partition": partition}).all()
        found = {r.consumer: Checkpoint(r.last_offset, r.last_position) for r in rows}
        stored = {c.name: found.get(c.name, Checkpoint(NOTHING_YET, 0)) for c in self.consumers}
        idle = self._idle.get((source, partition))
        if idle is None:
            return stored
        # A consumer at or past the stretch's start has nothing to do until its end.
        return {
            name: idle.until if idle.since <= at.offset < idle.until.offset else at
            for name, at in stored.items()
        }

    def rewind(self, source: str, partition: int) -> None:
        """The source restarted its offsets (a broker that lost its log): keep positions.

        Every consumer reads (source, partition) from its first offset again and
        skips, by position, what it already applied.
        """
        with self.engine.begin() as conn:
            conn.execute(
                update(checkpoints)
                .where(
                    (checkpoints.c.source == source)
                    & (checkpoints.c.partition == partition)
                    & checkpoints.c.consumer.in_([c.name for c in self.consumers])
                )
                .values(last_offset=NOTHING_YET, updated_at=utc_now())
            )
        self._idle.pop((source, partition), None)
        self._left_at.pop((source, partition), None)

    def reset(self, consumer: Consumer) -> None:
        """Forget a consumer's effects, checkpoints and dead letters, ready to rebuild it."""
        with self.engine.begin() as conn:
            for table in consumer.tables:
                conn.execute(table.delete())
            conn.execute(delete(checkpoints).where(checkpoints.c.consumer == consumer.name))
            conn.execute(delete(dead_letters).where(dead_letters.c.consumer == consumer.name))
        self._paused_until.pop(consumer.name, None)
        self._idle.clear()
        self._left_at.clear()


def checkpoint_of(consumer: str, source: str, partition: int) -> ColumnElement[bool]:
    return (
        (checkpoints.c.consumer == consumer)
        & (checkpoints.c.source == source)
        & (checkpoints.c.partition == partition)
    )


SERIAL_LOCKS = 0x5E41A1  # the advisory-lock namespace of consumers that write shared rows


def lock_consumer(conn: Connection, consumer: str) -> None:
    """One batch at a time for this consumer, whatever its source and partition.

    A consumer whose rows are shared by events of many aggregates (per-day
    counters, per-business stamps) sees them from several partitions at once
    when workers share the partitions; two batches updating such rows in
    different orders deadlock, and two inserting the same new row collide.
    SQLite runs one writer at a time anyway.
    """
    if conn.dialect.name == "postgresql":
        key = zlib.crc32(consumer.encode()) & 0x7FFFFFFF
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": SERIAL_LOCKS, "key": key}
        )


def batch_plan(
    consumer: Consumer, start: Checkpoint, deliveries: Sequence[Delivery], parked: set[str]
) -> tuple[Checkpoint, list[Envelope]] | None:
    """Where the batch takes the consumer and the envelopes it handles; None when it cannot
    fold the batch at once (no `apply_batch`, or an event to park or hold: the careful path)."""
    if getattr(consumer, "apply_batch", None) is None:
        return None
    reached, fresh = start, []
    for delivery in deliveries:
        envelope = delivery.envelope
        if delivery.offset <= reached.offset:
            continue
        if is_republished(delivery, reached):
            reached = Checkpoint(delivery.offset, reached.position)
            continue
        if envelope.type == UNDECODABLE or envelope.subject in parked:
            return None
        if consumer.handles(envelope.type):
            fresh.append(envelope)
        reached = Checkpoint(delivery.offset, max(reached.position, envelope.position))
    return reached, fresh


def is_republished(delivery: Delivery, reached: Checkpoint) -> bool:
    """A copy of an event this consumer already has, published again by a restarted producer."""
    envelope = delivery.envelope
    return envelope.type != UNDECODABLE and 0 < envelope.position <= reached.position


def lock_checkpoint(conn: Connection, consumer: str, source: str, partition: int) -> Checkpoint:
    """The consumer's checkpoint, locked for this transaction (created at 0 if new)."""
    row = {"consumer": consumer, "source": source, "partition": partition}
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(
        dialect_insert(checkpoints)
        .values(**row, last_offset=NOTHING_YET, last_position=0, updated_at=utc_now())
        .on_conflict_do_nothing()
    )
    found = conn.execute(
        select(checkpoints.c.last_offset, checkpoints.c.last_position)
        .where(checkpoint_of(consumer, source, partition))
        .with_for_update()
    ).one()
    return Checkpoint(found.last_offset, found.last_position)


_LOCK_SERIAL = text(
    "SELECT pg_advisory_xact_lock(:space, k)"
    " FROM unnest(CAST(:keys AS integer[])) WITH ORDINALITY AS given(k, n) ORDER BY n"
)
_CHECKPOINTS = (
    select(checkpoints.c.consumer, checkpoints.c.last_offset, checkpoints.c.last_position)
    .where(
        (checkpoints.c.source == bindparam("in_source"))
        & (checkpoints.c.partition == bindparam("in_partition"))
        & checkpoints.c.consumer.in_(bindparam("consumers", expanding=True))
    )
    .order_by(checkpoints.c.consumer)  # rows locked in one order by every follower
    .with_for_update()
)
_SAVE = (
    update(checkpoints)
    .where(
        (checkpoints.c.source == bindparam("in_source"))
        & (checkpoints.c.partition == bindparam("in_partition"))
        & checkpoints.c.consumer.in_(bindparam("consumers", expanding=True))
    )
    .values(
        last_offset=bindparam("to_offset"),
        last_position=bindparam("to_position"),
        updated_at=bindparam("now"),
    )
)
# Every pass of a follower and every read that carries a token read this: built once, it
# costs a third of what building and keying the statement each time did (60 against 180 µs).
_PROGRESS = select(
    checkpoints.c.consumer, checkpoints.c.last_offset, checkpoints.c.last_position
).where(
    (checkpoints.c.source == bindparam("in_source"))
    & (checkpoints.c.partition == bindparam("in_partition"))
)
_PARKED = (
    select(dead_letters.c.consumer, dead_letters.c.aggregate_id)
    .distinct()
    .where(dead_letters.c.consumer.in_(bindparam("consumers", expanding=True)))
)


def lock_consumers(conn: Connection, consumers: Sequence[str]) -> None:
    """`lock_consumer` for several at once, in the order given: the runtime's consumer order,
    which every follower (of this release and the previous one) locks them in, so none
    deadlocks another (advisory locks span the database, every schema in it)."""
    if consumers and conn.dialect.name == "postgresql":
        keys = list(dict.fromkeys(zlib.crc32(c.encode()) & 0x7FFFFFFF for c in consumers))
        conn.execute(_LOCK_SERIAL, {"space": SERIAL_LOCKS, "keys": keys})


def lock_checkpoints(
    conn: Connection, consumers: Sequence[str], source: str, partition: int
) -> dict[str, Checkpoint]:
    """`lock_checkpoint` for several consumers in one statement (made the first time)."""
    where = {"in_source": source, "in_partition": partition, "consumers": list(consumers)}
    found = {
        r.consumer: Checkpoint(r.last_offset, r.last_position)
        for r in conn.execute(_CHECKPOINTS, where)
    }
    missing = [name for name in consumers if name not in found]
    if not missing:
        return found
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    new = {"source": source, "partition": partition, "last_offset": NOTHING_YET, "last_position": 0}
    conn.execute(
        dialect_insert(checkpoints).on_conflict_do_nothing(),
        [{**new, "consumer": name, "updated_at": utc_now()} for name in missing],
    )
    return {
        r.consumer: Checkpoint(r.last_offset, r.last_position)
        for r in conn.execute(_CHECKPOINTS, where)
    }


def save_checkpoints(
    conn: Connection, source: str, partition: int, reached: dict[str, Checkpoint]
) -> None:
    """`save_checkpoint` for several consumers: one statement per checkpoint reached (after a
    pass they have usually all reached the same one)."""
    names_by_checkpoint: dict[Checkpoint, list[str]] = {}
    for name, checkpoint in reached.items():
        names_by_checkpoint.setdefault(checkpoint, []).append(name)
    for checkpoint, names in names_by_checkpoint.items():
        conn.execute(
            _SAVE,
            {
                "in_source": source,
                "in_partition": partition,
                "consumers": names,
                "to_offset": checkpoint.offset,
                "to_position": checkpoint.position,
                "now": utc_now(),
            },
        )


def parked_by_consumer(conn: Connection, consumers: Sequence[str]) -> dict[str, set[str]]:
    """`parked_aggregates` of several consumers in one statement."""
    parked: dict[str, set[str]] = {}
    for consumer, aggregate in conn.execute(_PARKED, {"consumers": list(consumers)}):
        parked.setdefault(consumer, set()).add(aggregate)
    return parked


def save_checkpoint(
    conn: Connection, consumer: str, source: str, partition: int, reached: Checkpoint
) -> None:
    conn.execute(
        update(checkpoints)
        .where(checkpoint_of(consumer, source, partition))
        .values(last_offset=reached.offset, last_position=reached.position, updated_at=utc_now())
    )


def parked_aggregates(conn: Connection, consumer: str) -> set[str]:
    """Aggregates with a parked event for `consumer`: their later events wait behind it."""
    rows = conn.execute(
        select(dead_letters.c.aggregate_id).distinct().where(dead_letters.c.consumer == consumer)
    )
    return set(rows.scalars())
