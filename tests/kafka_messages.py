"""Reading back what the relay published, and checking it against the contract."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson
from jsonschema import Draft202012Validator, FormatChecker
from kafka import KafkaConsumer, TopicPartition

from infra.contract.schemas import all_schemas
from infra.kafka.topics import public_topics
from infra.settings import Settings

_VALIDATORS = {
    name: Draft202012Validator(schema, format_checker=FormatChecker())
    for name, schema in all_schemas().items()
}


@dataclass(frozen=True)
class Published:
    topic: str
    partition: int
    offset: int
    key: bytes
    value: dict[str, Any]
    headers: dict[str, bytes]
    raw: bytes  # the value as the broker holds it


def read_topics(settings: Settings, timeout: float = 20.0) -> list[Published]:
    """Every message in the public topics, partition by partition, oldest first."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_servers, enable_auto_commit=False, fetch_max_wait_ms=20
    )
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in public_topics(settings)
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, 0)
        found: list[Published] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for tp, messages in consumer.poll(timeout_ms=100).items():
                found.extend(
                    Published(
                        tp.topic,
                        tp.partition,
                        m.offset,
                        m.key,
                        orjson.loads(m.value),
                        dict(m.headers),
                        m.value,
                    )
                    for m in messages
                )
            # Tansu's end offsets are wrong; a consumer's highwater after a fetch is right.
            if all(
                consumer.highwater(tp) is not None
                and consumer.position(tp) >= consumer.highwater(tp)
                for tp in partitions
            ):
                break
        else:
            raise AssertionError("could not read the topics to their end")
        return sorted(found, key=lambda m: (m.topic, m.partition, m.offset))
    finally:
        consumer.close()


def assert_follows_the_contract(messages: list[Published]) -> None:
    """Every message validates against its type's JSON Schema; structured mode, no `ce_` headers."""
    for message in messages:
        envelope = message.value
        validator = _VALIDATORS.get(envelope.get("type", ""))
        assert validator is not None, f"no schema for {envelope.get('type')!r}"
        errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(envelope)]
        assert not errors, (envelope["type"], errors)
        assert message.key == envelope["subject"].encode()
        assert message.topic.endswith("." + envelope["aggregatetype"])
        assert message.headers == {"content-type": b"application/cloudevents+json"}
