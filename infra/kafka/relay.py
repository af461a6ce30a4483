"""The relay (`slotwise relay`): the event store is the outbox; Kafka is where it goes.

While it holds the leader lock, it reads the notification log after its saved
position and delivers each batch to the `KafkaPublisher` through the consumer
runtime, whose transaction (on the event-store database) commits the relay's
checkpoint only after the broker acknowledged the batch. When Kafka is down it
backs off and starts again from the saved position with a new producer (a
broker that lost its log, or a producer id the broker forgot, needs one), and
creates the topics again. Every new producer first reads back what the
partitions hold past the saved offsets (infra/kafka/readback.py), so an event
the broker took before a crash is not published twice: exactly once, in order
per key. `stop()` (SIGTERM) lets the batch in flight finish.
"""

from __future__ import annotations

import logging
import threading
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import Engine

from infra.consumers.runtime import TRANSIENT, ConsumerRuntime, RetryPolicy
from infra.follower import LOG_PARTITION, LOG_SOURCE, read_log
from infra.kafka import clients
from infra.kafka.leader import LeaderLock
from infra.kafka.publisher import KafkaPublisher
from infra.kafka.relay_tables import RELAY, forget_topics
from infra.kafka.relay_tables import metadata as relay_metadata
from infra.kafka.topics import ensure_topics, public_topics
from infra.settings import Settings

log = logging.getLogger(__name__)


class LostLead(Exception):
    """The leader lock's session is gone: another relay may lead now."""


class Relay:
    """Publishes the notification log to Kafka while it is the leader; `stop()` drains."""

    def __init__(
        self,
        settings: Settings,
        recorder: ApplicationRecorder,
        mapper: Mapper[UUID],
        engine: Engine,
        leader: LeaderLock,
    ) -> None:
        self.settings, self.recorder, self.mapper = settings, recorder, mapper
        self.leader = leader
        flush = settings.kafka_request_timeout_ms / 1000 * 3
        self.publisher = KafkaPublisher(
            lambda: clients.producer(settings),
            lambda: clients.reader(settings),
            public_topics(settings),
            settings.kafka_topic_prefix,
            flush,
        )
        retry = RetryPolicy(settings.consumer_max_attempts, settings.consumer_backoff_seconds)
        self.runtime = ConsumerRuntime(engine, [self.publisher], retry)
        self._stop = threading.Event()
        self.published = 0  # events handed to the runtime since start (for benchmarks)
        self.leading = threading.Event()
        self._cursor: int | None = None  # the saved position, while leading

    def setup(self) -> None:
        self.runtime.setup()
        relay_metadata.create_all(self.runtime.engine)

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Until stopped: wait for the leader lock, then publish while it is held."""
        self.setup()
        try:
            standby = False
            while not self._stop.is_set():
                if self._try_lead():
                    self._lead()
                    standby = False
                else:
                    if not standby:
                        log.info("relay is a standby: another relay leads")
                        standby = True
                    self._stop.wait(self.settings.relay_leader_retry_seconds)
        finally:
            self.publisher.close()
            self.leader.release()
            self.leading.clear()

    def _try_lead(self) -> bool:
        try:
            return self.leader.try_acquire()
        except Exception as error:  # the database is away: try again later
            log.warning("relay could not reach PostgreSQL for the leader lock: %r", error)
            return False

    def _lead(self) -> None:
        log.info("relay is the leader")
        self.publisher.discard()  # a new leadership reads back what the partitions hold
        self.leading.set()
        backoff, topics_checked = 0.0, False
        self._cursor = None
        while not self._stop.is_set():
            if backoff:
                self._stop.wait(backoff)
            try:
                if not topics_checked:  # at start, and after Kafka was away (it may be new)
                    self._ensure_topics()
                    topics_checked = True
                moved = self.publish_once()
                backoff = 0.0
            except LostLead:
                log.warning("relay lost the leader lock; stops publishing")
                self.publisher.discard()
                break
            except Exception as error:  # Kafka/PostgreSQL away, or topics not creatable yet
                self._cursor = None
                self.publisher.discard()
                topics_checked = False
                backoff = min(max(backoff * 2, 0.2), 5.0)
                waits_for = " for Kafka/PostgreSQL" if isinstance(error, TRANSIENT) else ""
                log.warning("relay waits %.1fs%s: %r", backoff, waits_for, error)
                continue
            if not moved:
                self._stop.wait(self.settings.relay_poll_seconds)
        self.leading.clear()

    def _ensure_topics(self) -> None:
        created = ensure_topics(self.settings)
        if created:  # new topics start at offset 0: what we noted of old ones is void
            with self.runtime.engine.begin() as conn:
                forget_topics(conn, created)

    def publish_once(self) -> int:
        """Publish the next batch after the saved position; how far the position moved.

        An idle poll costs one query: the saved position is remembered between
        batches (only the leader moves it), and the leader lock's session is
        checked when there is something to publish.
        """
        if self._cursor is None:
            self._cursor = max(self.runtime.checkpoints(LOG_SOURCE, LOG_PARTITION)[RELAY].offset, 0)
        before = self._cursor
        batch = read_log(self.recorder, self.mapper, before, self.settings.relay_batch_size)
        if not batch:
            return 0
        if not self.leader.held():
            raise LostLead()
        self.runtime.deliver(LOG_SOURCE, LOG_PARTITION, batch)
        after = max(self.runtime.checkpoints(LOG_SOURCE, LOG_PARTITION)[RELAY].offset, 0)
        self._cursor = after
        self.published += after - before
        return after - before
