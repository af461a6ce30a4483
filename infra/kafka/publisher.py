"""The relay's consumer: sends each public envelope to Kafka; flushes before the commit.

It runs on the shared consumer runtime over the notification log, with its
checkpoint in the event-store database. `apply` only hands the message to the
producer's buffer; `before_commit` waits until the broker acknowledged every
send of the batch and records per (topic, partition) where the last one
landed, so the relay's position is saved only after the broker has the events.
A send the broker cannot take right now raises `Unavailable` (the batch rolls
back and is published again); a message the broker refuses for good (too
large) makes its event fail, so the runtime parks it and holds that
aggregate's later events behind it: per-aggregate order in Kafka never breaks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError, MessageSizeTooLargeError, RecordListTooLargeError
from sqlalchemy import Connection, Table

from domain.envelope import PUBLIC_AGGREGATE_TYPES, TYPE_PREFIX, Envelope
from infra.consumers.runtime import Unavailable
from infra.kafka.messages import to_record
from infra.kafka.relay_tables import RELAY, marks, prune_marks, published, record_published

# Refusals that are the message's fault: retrying the same bytes can never succeed.
REFUSED = (MessageSizeTooLargeError, RecordListTooLargeError)


class MessageRefused(Exception):
    """The broker will never take this message (e.g. too large): park the event."""


class KafkaPublisher:
    """Publishes envelopes of public aggregates; internal ones stay in the event store."""

    name = RELAY
    tables: Sequence[Table] = (published, marks)

    def __init__(
        self, make_producer: Callable[[], KafkaProducer], prefix: str, flush_seconds: float
    ) -> None:
        self.make_producer, self.prefix, self.flush_seconds = make_producer, prefix, flush_seconds
        self._producer: KafkaProducer | None = None
        self._pending: list[tuple[int, Any]] = []
        self._refused: dict[str, str] = {}
        self._batches = 0
        self._public = tuple(f"{TYPE_PREFIX}.{t}." for t in PUBLIC_AGGREGATE_TYPES)

    def handles(self, event_type: str) -> bool:
        return event_type.startswith(self._public)

    def apply(self, conn: Connection, envelope: Envelope) -> None:
        if envelope.id in self._refused:
            raise MessageRefused(self._refused[envelope.id])
        record = to_record(envelope, self.prefix)
        try:
            future = self.producer().send(
                record.topic, value=record.value, key=record.key, headers=record.headers
            )
        except REFUSED as error:
            raise MessageRefused(f"Kafka refuses the message: {error}") from error
        except KafkaError as error:  # no metadata, buffer full: the broker, not the event
            self.discard()
            raise Unavailable(f"Kafka is unavailable: {error!r}") from error
        self._pending.append((envelope.position, future))
        future.add_errback(lambda error, event_id=envelope.id: self._note_refusal(event_id, error))

    def before_commit(self, conn: Connection) -> None:
        """Wait for every acknowledgement; note where the last send of each partition landed."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        try:
            self.producer().flush(timeout=self.flush_seconds)
        except KafkaError as error:
            self.discard()
            raise Unavailable(f"Kafka did not acknowledge in time: {error!r}") from error
        first: dict[tuple[str, int], tuple[int, int]] = {}
        latest: dict[tuple[str, int], tuple[int, int]] = {}
        for position, future in pending:
            if not future.is_done or future.failed():
                self.discard()
                raise Unavailable(f"Kafka did not take the batch: {future.exception!r}")
            metadata = future.value
            spot = (metadata.topic, metadata.partition)
            first.setdefault(spot, (position, metadata.offset))
            latest[spot] = (position, metadata.offset)
        record_published(conn, first, latest)
        self._batches += 1
        if self._batches % 1000 == 0:
            prune_marks(conn)

    def producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = self.make_producer()
        return self._producer

    def discard(self) -> None:
        """Drop the producer and what it still holds: the batch is published again, anew."""
        self._pending = []
        producer, self._producer = self._producer, None
        if producer is not None:
            # closing a producer of a dead broker may fail; it is gone anyway
            with contextlib.suppress(Exception):
                producer.close(timeout=0)

    def close(self, timeout: float = 10.0) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=timeout)

    def _note_refusal(self, event_id: str, error: Exception) -> None:
        if isinstance(error, REFUSED):
            self._refused[event_id] = f"Kafka refuses the message: {error!r}"
