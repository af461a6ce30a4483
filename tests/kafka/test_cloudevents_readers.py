"""Every record the relay publishes reads right with any CloudEvents reader, and with json.loads.

Structured mode with no `ce_` headers: the official SDK's auto-detecting reader
(which takes any `ce_` header for binary mode) and its structured reader both
recover subject, position, aggregate version, time and data exactly.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka_event, from_structured_event

from infra.bootstrap import Container
from infra.follower import read_log
from tests.kafka.conftest import Threads, Workload, wait_until
from tests.kafka.test_relay import PUBLIC, relay_position, start_relay, written
from tests.kafka_messages import read_topics

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def facts(event: Any) -> tuple[object, ...]:
    """What a reader must get right, from an SDK event."""
    return (
        event.get_subject(),
        event.get_extension("position"),
        event.get_extension("aggregateversion"),
        event.get_time(),
        event.get_data(),
        event.get_extension("correlationid"),
    )


def test_every_record_decodes_right_with_the_sdk_readers_and_plain_json(
    container: Container, settings: Any, threads: Threads
) -> None:
    load = Workload(container)
    for _ in range(30):
        load.next()
    relay = start_relay(settings, threads)
    wait_until(lambda: relay_position(relay) >= written(container), what="the relay")

    log = read_log(container.app.recorder, container.app.mapper, 0, 10_000)
    stored = {d.envelope.position: d.envelope for d in log if d.envelope.aggregatetype in PUBLIC}
    records = read_topics(settings)
    assert len(records) == len(stored)
    right = 0
    for record in records:
        assert not [h for h in record.headers if h.lower().startswith("ce_")]
        message = KafkaMessage(headers=record.headers, key=record.key, value=record.raw)
        plain = json.loads(record.raw)
        envelope = stored[plain["position"]]
        expected = (
            envelope.subject,
            envelope.position,
            envelope.aggregateversion,
            datetime.fromisoformat(envelope.time),
            envelope.data,
            envelope.correlationid,
        )
        assert facts(from_kafka_event(message)) == expected
        assert facts(from_structured_event(message)) == expected
        assert (
            plain["subject"],
            plain["position"],
            plain["aggregateversion"],
            datetime.fromisoformat(plain["time"]),
            plain["data"],
            plain["correlationid"],
        ) == expected
        right += 1
    assert right == len(stored) > 30
