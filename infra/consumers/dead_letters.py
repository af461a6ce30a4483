"""Parked events: list them, retry them in order, or discard one.

A retry applies an aggregate's dead letters for one consumer oldest first, in
one transaction that also locks that consumer's checkpoint, so it never races
the live delivery; it stops at the first event that fails again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from domain.envelope import Envelope
from infra.consumers.runtime import (
    PARKED,
    UNDECODABLE,
    ConsumerRuntime,
    lock_checkpoint,
    utc_now,
)
from infra.consumers.tables import dead_letters
from infra.envelopes import envelope_from_json

# Re-reads a dead letter's event from its source (e.g. a fixed decoder), or None.
Refetch = Callable[[str, int, int], Envelope | None]


class NotAtHead(Exception):
    """A held dead letter waits behind an older one of the same aggregate."""


class UnknownDeadLetter(LookupError):
    pass


@dataclass(frozen=True)
class DeadLetter:
    id: int
    consumer: str
    source: str
    partition: int
    source_offset: int
    position: int
    event_id: str
    event_type: str
    aggregate_id: str
    status: str
    error: str
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime


@dataclass(frozen=True)
class RetryOutcome:
    applied: int
    still_parked: int


class DeadLetters:
    """Operator's view of the runtime's dead-letter table."""

    def __init__(self, runtime: ConsumerRuntime, refetch: Refetch | None = None) -> None:
        self.runtime = runtime
        self.refetch = refetch

    def count(self) -> int:
        with self.runtime.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(dead_letters)).scalar_one())

    def counts(self) -> dict[tuple[str, str], int]:
        """How many dead letters each consumer has, by status (parked, held)."""
        query = select(dead_letters.c.consumer, dead_letters.c.status, func.count()).group_by(
            dead_letters.c.consumer, dead_letters.c.status
        )
        with self.runtime.engine.connect() as conn:
            return {(consumer, status): count for consumer, status, count in conn.execute(query)}

    def entries(self, consumer: str | None = None) -> list[DeadLetter]:
        query = select(*_columns()).order_by(dead_letters.c.id)
        if consumer is not None:
            query = query.where(dead_letters.c.consumer == consumer)
        with self.runtime.engine.connect() as conn:
            return [DeadLetter(**row._mapping) for row in conn.execute(query)]

    def retry(self, dead_letter_id: int) -> RetryOutcome:
        """Apply the dead letter and the ones held behind it, in order."""
        with self.runtime.engine.begin() as conn:
            row = self._row(conn, dead_letter_id)
            queue = self._queue(conn, row.consumer, row.source, row.partition, row.aggregate_id)
            if queue[0].id != row.id:
                raise NotAtHead(
                    f"dead letter {row.id} waits behind {queue[0].id} of the same aggregate; "
                    "retry that one first"
                )
            return self._drain(conn, row.consumer, queue)

    def retry_all(self) -> RetryOutcome:
        applied = still = 0
        heads = {(d.consumer, d.source, d.partition, d.aggregate_id) for d in self.entries()}
        for consumer, source, partition, aggregate_id in sorted(heads):
            with self.runtime.engine.begin() as conn:
                queue = self._queue(conn, consumer, source, partition, aggregate_id)
                if queue:
                    outcome = self._drain(conn, consumer, queue)
                    applied, still = applied + outcome.applied, still + outcome.still_parked
        return RetryOutcome(applied, still)

    def discard(self, dead_letter_id: int) -> int:
        """Drop one dead letter; the next one of its aggregate (if any) becomes the parked head."""
        with self.runtime.engine.begin() as conn:
            row = self._row(conn, dead_letter_id)
            conn.execute(delete(dead_letters).where(dead_letters.c.id == row.id))
            rest = self._queue(conn, row.consumer, row.source, row.partition, row.aggregate_id)
            if rest and rest[0].status != PARKED:
                conn.execute(
                    update(dead_letters)
                    .where(dead_letters.c.id == rest[0].id)
                    .values(status=PARKED, error=f"waited behind {row.id}, discarded; retry it")
                )
            return len(rest)

    def _row(self, conn: Connection, dead_letter_id: int) -> DeadLetter:
        row = conn.execute(
            select(*_columns()).where(dead_letters.c.id == dead_letter_id)
        ).one_or_none()
        if row is None:
            raise UnknownDeadLetter(f"no dead letter with id {dead_letter_id}")
        return DeadLetter(**row._mapping)

    def _queue(
        self, conn: Connection, consumer: str, source: str, partition: int, aggregate_id: str
    ) -> list[DeadLetter]:
        """The aggregate's dead letters for `consumer`, oldest first, with the checkpoint locked."""
        lock_checkpoint(conn, consumer, source, partition)
        rows = conn.execute(
            select(*_columns())
            .where(
                (dead_letters.c.consumer == consumer)
                & (dead_letters.c.aggregate_id == aggregate_id)
            )
            .order_by(dead_letters.c.position, dead_letters.c.id)
        )
        return [DeadLetter(**row._mapping) for row in rows]

    def _drain(self, conn: Connection, consumer_name: str, queue: list[DeadLetter]) -> RetryOutcome:
        consumer = self.runtime.consumer(consumer_name)
        for n, letter in enumerate(queue):
            try:
                envelope = self._envelope(conn, letter)
                with conn.begin_nested():
                    consumer.apply(conn, envelope)
            except Exception as error:  # parked again, with what went wrong this time
                conn.execute(
                    update(dead_letters)
                    .where(dead_letters.c.id == letter.id)
                    .values(
                        status=PARKED,
                        error=f"{type(error).__name__}: {error}"[:2000],
                        attempts=letter.attempts + 1,
                        last_failed_at=utc_now(),
                    )
                )
                return RetryOutcome(applied=n, still_parked=len(queue) - n)
            conn.execute(delete(dead_letters).where(dead_letters.c.id == letter.id))
        before_commit = getattr(consumer, "before_commit", None)
        if before_commit is not None:  # e.g. the relay waits for the broker's acknowledgements
            before_commit(conn)
        return RetryOutcome(applied=len(queue), still_parked=0)

    def _envelope(self, conn: Connection, letter: DeadLetter) -> Envelope:
        raw = conn.execute(
            select(dead_letters.c.envelope).where(dead_letters.c.id == letter.id)
        ).scalar_one()
        envelope = envelope_from_json(raw)
        if envelope.type == UNDECODABLE and self.refetch is not None:
            fetched = self.refetch(letter.source, letter.partition, letter.source_offset)
            if fetched is not None:
                return fetched
        if envelope.type == UNDECODABLE:
            raise ValueError(str(envelope.data.get("error", "the record cannot be decoded")))
        return envelope


def _columns() -> list[Any]:
    return [c for c in dead_letters.c if c.name != "envelope"]
