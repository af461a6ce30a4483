"""After a rebuild from the event store, tell the Kafka path what the read models hold.

A rebuild replays the log up to position L and forgets every checkpoint. The
workers must not apply those events again from Kafka: every partition's
checkpoint is set to the relay's last offset there (everything up to it is
older than L) and to position L, so later messages at or below L are skipped
as copies and only newer ones are applied.
"""

from __future__ import annotations

from kafka import KafkaConsumer
from sqlalchemy import Engine

from infra.consumers.runtime import (
    NOTHING_YET,
    Checkpoint,
    ConsumerRuntime,
    lock_checkpoint,
    save_checkpoint,
)
from infra.kafka.progress import relay_state
from infra.kafka.topics import ensure_topics, public_topics
from infra.settings import Settings


def partitions(settings: Settings) -> list[tuple[str, int]]:
    ensure_topics(settings)
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_servers)
    try:
        return [
            (topic, p)
            for topic in public_topics(settings)
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
    finally:
        consumer.close()


def align_kafka_checkpoints(
    settings: Settings, event_store_tables: Engine, runtime: ConsumerRuntime, position: int
) -> int:
    """Checkpoint every consumer of `runtime` in every partition at `position`; how many."""
    published = relay_state(event_store_tables).published
    spots = partitions(settings)
    with runtime.engine.begin() as conn:
        for consumer in runtime.consumers:
            for topic, partition in spots:
                offset = published.get((topic, partition), (0, NOTHING_YET))[1]
                lock_checkpoint(conn, consumer.name, topic, partition)
                save_checkpoint(conn, consumer.name, topic, partition, Checkpoint(offset, position))
    return len(spots) * len(runtime.consumers)
