"""Projector workers (`slotwise project`): a consumer group feeding the projectors.

Each worker subscribes to the public topics in one consumer group, so the
group shares the partitions among its workers. The read database's
checkpoints are the truth: on assignment a worker seeks each partition to the
lowest checkpoint of its consumers there (+1), and after each batch it seeks
back if a consumer paused on a failing event, so nothing is skipped. Offsets
committed to Kafka are only for monitoring. Rebalance callbacks run inside
`poll()`, between batches, so a revoked partition never has a batch in flight:
the last one either committed or rolled back.

A broker that lost its log (memory-only brokers restart empty) starts the
partition's offsets again at 0; the worker notices (a message below where it
sought) and rewinds its checkpoints' offsets, keeping positions, so the
republished events are applied once and the copies are skipped.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Sequence

from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from infra.consumers.runtime import TRANSIENT, ConsumerRuntime
from infra.kafka import clients
from infra.kafka.messages import to_delivery
from infra.kafka.topics import ensure_topics, public_topics
from infra.settings import Settings

log = logging.getLogger(__name__)


def group_for(settings: Settings, names: Sequence[str], all_names: Sequence[str]) -> str:
    """All projectors share the configured group; a subset gets a group of its own."""
    if sorted(names) == sorted(all_names):
        return settings.kafka_group
    return f"{settings.kafka_group}.{'+'.join(sorted(names))}"


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: ProjectorWorker) -> None:
        self.worker = worker

    def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        for tp in revoked:
            self.worker.expected.pop(tp, None)

    def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        for tp in assigned:
            self.worker.seek_to_checkpoint(tp, fetched_up_to=None)


class ProjectorWorker:
    """One member of the projector consumer group; `run()` until `stop()`."""

    def __init__(self, settings: Settings, runtime: ConsumerRuntime, group: str) -> None:
        self.settings, self.runtime, self.group = settings, runtime, group
        self.consumer: KafkaConsumer | None = None
        self.expected: dict[TopicPartition, int] = {}  # where the next message should be
        self.delivered = 0  # messages handed to the runtime (benchmarks, tests)
        self.assigned = threading.Event()
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Join the group and project until stopped; Kafka or the database being away waits."""
        while not self._stop.is_set():
            try:
                ensure_topics(self.settings)
                self.consumer = clients.group_consumer(self.settings, self.group)
                self.consumer.subscribe(public_topics(self.settings), listener=_Rebalance(self))
                self._consume()
            except Exception as error:  # reconnect from the checkpoints after a pause
                log.warning("projector worker waits for Kafka/PostgreSQL: %r", error)
                self._stop.wait(1.0)
            finally:
                self._close()

    def _consume(self) -> None:
        assert self.consumer is not None
        while not self._stop.is_set():
            batches = self.consumer.poll(timeout_ms=100)
            if self.consumer.assignment():
                self.assigned.set()
            for tp, messages in batches.items():
                if tp in self.expected and messages:
                    self._project(tp, messages)

    def _project(self, tp: TopicPartition, messages: list[object]) -> None:
        assert self.consumer is not None
        first = messages[0].offset  # type: ignore[attr-defined]
        if first < self.expected[tp]:
            log.warning("%s restarted its offsets at %d: rewinding checkpoints", tp, first)
            self.runtime.rewind(tp.topic, tp.partition)
        deliveries = [
            to_delivery(m.offset, m.key, m.value)  # type: ignore[attr-defined]
            for m in messages
        ]
        try:
            self.runtime.deliver(tp.topic, tp.partition, deliveries)
        except TRANSIENT as error:
            log.warning("projection of %s rolled back, retrying: %r", tp, error)
            self._stop.wait(0.5)
        self.delivered += len(deliveries)
        last = messages[-1].offset  # type: ignore[attr-defined]
        next_offset = self.seek_to_checkpoint(tp, fetched_up_to=last + 1)
        if next_offset > 0:
            self.consumer.commit_async({tp: OffsetAndMetadata(next_offset, "", -1)})

    def seek_to_checkpoint(self, tp: TopicPartition, fetched_up_to: int | None) -> int:
        """Seek to just after the lowest checkpoint of this worker's consumers in `tp`.

        `fetched_up_to` is where the consumer's fetch position already is (None
        after an assignment): no seek is needed when every consumer got that far.
        """
        assert self.consumer is not None
        found = self.runtime.checkpoints(tp.topic, tp.partition).values()
        next_offset = min(c.offset for c in found) + 1
        if fetched_up_to != next_offset:
            self.consumer.seek(tp, next_offset)
        self.expected[tp] = next_offset
        return next_offset

    def _close(self) -> None:
        consumer, self.consumer = self.consumer, None
        self.expected.clear()
        self.assigned.clear()
        if consumer is not None:
            # leaving a group on a dead broker may fail; it is gone anyway
            with contextlib.suppress(Exception):
                consumer.close(autocommit=False)
