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

Exactly once: before its first send with a new producer (at start, on every
leadership, after any failed batch) it reads back what each partition holds
past the offset saved for it (infra/kafka/readback.py); an event found there
is not sent again but counted as acknowledged where it lies.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError, MessageSizeTooLargeError, RecordListTooLargeError
from sqlalchemy import Connection, Table

from domain.envelope import PUBLIC_AGGREGATE_TYPES, TYPE_PREFIX, Envelope
from infra.consumers.runtime import Unavailable
from infra.kafka.messages import to_record
from infra.kafka.readback import Landed, read_back
from infra.kafka.relay_tables import (
    RELAY,
    marks,
    prune_marks,
    published,
    published_so_far,
    record_published,
)

log = logging.getLogger(__name__)

# Refusals that are the message's fault: retrying the same bytes can never succeed.
REFUSED = (MessageSizeTooLargeError, RecordListTooLargeError)


class MessageRefused(Exception):
    """The broker will never take this message (e.g. too large): park the event."""


class KafkaPublisher:
    """Publishes envelopes of public aggregates; internal ones stay in the event store."""

    name = RELAY
    tables: Sequence[Table] = (published, marks)

    def __init__(
        self,
        make_producer: Callable[[], KafkaProducer],
        make_reader: Callable[[], KafkaConsumer],
        topics: Sequence[str],
        prefix: str,
        flush_seconds: float,
    ) -> None:
        self.make_producer, self.make_reader = make_producer, make_reader
        self.topics, self.prefix, self.flush_seconds = topics, prefix, flush_seconds
        self._producer: KafkaProducer | None = None
        self._landed: dict[int, Landed] | None = None  # read back since the producer was new
        self._pending: list[tuple[int, Any]] = []
        self.skipped = 0  # events found already published (for tests and logs)
        self._refused: dict[str, str] = {}
        self._batches = 0
        self._public = tuple(f"{TYPE_PREFIX}.{t}." for t in PUBLIC_AGGREGATE_TYPES)

    def handles(self, event_type: str) -> bool:
        return event_type.startswith(self._public)

    def apply(self, conn: Connection, envelope: Envelope) -> None:
        if envelope.id in self._refused:
            raise MessageRefused(self._refused[envelope.id])
        if self._landed is None:
            self._landed = self._read_back(conn)
        landed = self._landed.get(envelope.position)
        if landed is not None:  # published before a crash, never acknowledged to us
            self._pending.append((envelope.position, landed))
            self.skipped += 1
            return
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
        for position, sent in pending:
            spot, offset = self._where(sent)
            if spot not in first or offset < first[spot][1]:
                first[spot] = (position, offset)
            if spot not in latest or offset > latest[spot][1]:
                latest[spot] = (position, offset)
        record_published(conn, first, latest)
        self._batches += 1
        if self._batches % 1000 == 0:
            prune_marks(conn)

    def _where(self, sent: Any) -> tuple[tuple[str, int], int]:
        if isinstance(sent, Landed):
            return (sent.topic, sent.partition), sent.offset
        if not sent.is_done or sent.failed():
            self.discard()
            raise Unavailable(f"Kafka did not take the batch: {sent.exception!r}")
        return (sent.value.topic, sent.value.partition), sent.value.offset

    def _read_back(self, conn: Connection) -> dict[int, Landed]:
        """What each partition holds past its saved offset (a crash may have left it there)."""
        starts = {spot: offset + 1 for spot, (_, offset) in published_so_far(conn).items()}
        try:
            landed = read_back(self.make_reader, self.topics, starts, self.flush_seconds)
        except KafkaError as error:
            raise Unavailable(f"Kafka could not be read back: {error!r}") from error
        if landed:
            log.info(
                "relay read back %d events already in Kafka past its saved position "
                "(positions %d to %d); they are not sent again",
                len(landed),
                min(landed),
                max(landed),
            )
        return landed

    def producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = self.make_producer()
        return self._producer

    def discard(self) -> None:
        """Drop the producer and what it still holds: read back, then publish the batch anew."""
        self._pending = []
        self._landed = None
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
