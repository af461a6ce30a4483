"""Kafka clients built from settings: the idempotent producer, group consumers, the admin."""

from __future__ import annotations

from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from infra.settings import Settings


def _common(settings: Settings, role: str) -> dict[str, Any]:
    return {
        "bootstrap_servers": settings.kafka_servers,
        "client_id": f"slotwise-{role}",
        "request_timeout_ms": settings.kafka_request_timeout_ms,
        "reconnect_backoff_max_ms": 2000,
    }


def producer(settings: Settings) -> KafkaProducer:
    """Idempotent and acknowledged by all in-sync replicas: no loss, no retry duplicates."""
    return KafkaProducer(
        **_common(settings, "relay"),
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        max_request_size=settings.kafka_max_message_bytes,
        max_block_ms=settings.kafka_request_timeout_ms,
        delivery_timeout_ms=max(30_000, settings.kafka_request_timeout_ms + 5_000),
    )


def group_consumer(settings: Settings, group: str) -> KafkaConsumer:
    """A consumer-group member; offsets are ours (the read database), so nothing auto-commits."""
    return KafkaConsumer(
        **_common(settings, "projector"),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        max_poll_interval_ms=settings.kafka_max_poll_interval_ms,
        max_poll_records=500,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
    )


def reader(settings: Settings) -> KafkaConsumer:
    """The relay's read-back: no group, nothing committed; a log shorter than noted reads from 0."""
    return KafkaConsumer(
        **_common(settings, "relay-readback"),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
    )


def admin_client(settings: Settings) -> KafkaAdminClient:
    return KafkaAdminClient(**_common(settings, "admin"))
