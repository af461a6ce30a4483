"""Topic names and topic bootstrap: one topic per public aggregate type.

The internal aggregates (`slug_index`, `day_allocation`) get no topic: they
are the write side's consistency mechanisms (unique slugs, no double booking),
not facts anyone downstream should build on, and their events would double
the traffic for nothing a projector or an analyst reads.

Topics are created with `SLOTWISE_KAFKA_RETENTION_MS` (default -1: for ever,
since analytics consumers replay them); a topic that exists already keeps the
retention it has (change it with kafka-configs.sh).
"""

from __future__ import annotations

import logging

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from domain.envelope import PUBLIC_AGGREGATE_TYPES
from infra.kafka.clients import admin_client
from infra.settings import Settings

log = logging.getLogger(__name__)


def topic_for(prefix: str, aggregate_type: str) -> str:
    """'slotwise.booking' for bookings under the default prefix."""
    return f"{prefix}.{aggregate_type}"


def public_topics(settings: Settings) -> list[str]:
    return [topic_for(settings.kafka_topic_prefix, t) for t in PUBLIC_AGGREGATE_TYPES]


def topic_configs(settings: Settings) -> dict[str, str]:
    """What a new topic is created with: its retention (-1 keeps every record for ever)."""
    return {"retention.ms": str(settings.kafka_retention_ms)}


def ensure_topics(settings: Settings, admin: KafkaAdminClient | None = None) -> list[str]:
    """Create the public topics that are missing (configured partitions, replicas, retention)."""
    owned = admin is None
    client = admin or admin_client(settings)
    try:
        existing = set(client.list_topics())
        missing = [t for t in public_topics(settings) if t not in existing]
        created = []
        for topic in missing:
            new = NewTopic(
                topic,
                settings.kafka_partitions,
                settings.kafka_replication_factor,
                topic_configs=topic_configs(settings),
            )
            try:
                client.create_topics([new])
                created.append(topic)
            except TopicAlreadyExistsError:  # another process created it meanwhile
                pass
        if created:
            log.info("created Kafka topics %s", ", ".join(created))
        return created
    finally:
        if owned:
            client.close()
