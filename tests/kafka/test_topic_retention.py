"""Topics are created with the configured retention: by default they keep every record."""

from __future__ import annotations

import uuid

import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from pydantic import ValidationError

from infra.kafka.topics import ensure_topics, public_topics
from infra.settings import Settings
from tests.conftest import JWT_SECRET
from tests.kafka_broker import Broker


def kafka_settings(servers: str, **more: object) -> Settings:
    # ensure_topics touches only Kafka; the event store is never opened here.
    return Settings(
        event_store="postgresql://postgres@127.0.0.1:9/unused",
        kafka=servers,
        jwt_secret=JWT_SECRET,
        kafka_topic_prefix=f"retention-{uuid.uuid4().hex[:8]}",
        **more,  # type: ignore[arg-type]
    )


class RecordingAdmin:
    """What ensure_topics asks the broker to create (the Tansu broker cannot describe configs)."""

    def __init__(self) -> None:
        self.created: list[NewTopic] = []

    def list_topics(self) -> list[str]:
        return []

    def create_topics(self, topics: list[NewTopic]) -> None:
        self.created.extend(topics)


@pytest.mark.parametrize(
    ("setting", "expected"), [({}, "-1"), ({"kafka_retention_ms": 604_800_000}, "604800000")]
)
def test_new_topics_get_the_configured_retention(setting: dict[str, int], expected: str) -> None:
    admin = RecordingAdmin()
    settings = kafka_settings("127.0.0.1:9", **setting)
    ensure_topics(settings, admin)  # type: ignore[arg-type]
    assert [t.name for t in admin.created] == public_topics(settings)
    assert {t.topic_configs["retention.ms"] for t in admin.created} == {expected}


@pytest.mark.parametrize("bad", [0, 59_999, -2])
def test_a_retention_that_would_drop_records_at_once_is_a_configuration_error(bad: int) -> None:
    with pytest.raises(ValidationError, match="keep for ever"):
        kafka_settings("127.0.0.1:9", kafka_retention_ms=bad)


@pytest.mark.kafka
def test_a_broker_creates_the_topics_with_their_retention(kafka_broker: Broker) -> None:
    settings = kafka_settings(kafka_broker.servers, kafka_retention_ms=86_400_000)
    assert ensure_topics(settings) == public_topics(settings)
    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.servers)
    try:
        assert set(public_topics(settings)) <= set(admin.list_topics())
    finally:
        admin.close()
