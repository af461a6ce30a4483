"""What the partitions already hold past the relay's saved offsets: read back before publishing.

The relay saves its position only after the broker acknowledged a batch, so a
crash (or a lost leadership, or a broker error) between the acknowledgement and
the commit leaves events in Kafka that the saved position does not cover; an
event whose send was in flight may or may not have landed. Reading each
partition from just after the offset the relay saved for it to its end settles
it: an event found there is not sent again, every other one is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import orjson
from kafka import KafkaConsumer, TopicPartition

from infra.consumers.runtime import Unavailable

Spot = tuple[str, int]  # (topic, partition)


@dataclass(frozen=True)
class Landed:
    """Where an event already is: its topic, partition and offset."""

    topic: str
    partition: int
    offset: int


def read_back(
    make_consumer: Callable[[], KafkaConsumer],
    topics: Iterable[str],
    starts: dict[Spot, int],
    timeout: float,
) -> dict[int, Landed]:
    """Every event (by global position) in the topics at or after the given offsets."""
    consumer = make_consumer()
    try:
        parts = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not parts:
            return {}
        consumer.assign(parts)
        for tp in parts:
            consumer.seek(tp, starts.get((tp.topic, tp.partition), 0))
        return _read_to_the_end(consumer, set(parts), time.monotonic() + timeout)
    finally:
        consumer.close()


def _read_to_the_end(
    consumer: KafkaConsumer, pending: set[TopicPartition], deadline: float
) -> dict[int, Landed]:
    found: dict[int, Landed] = {}
    while pending:
        if time.monotonic() >= deadline:
            raise Unavailable(f"could not read {len(pending)} partitions back to their end")
        for tp, records in consumer.poll(timeout_ms=50).items():
            for record in records:
                position = _position(record.value)
                if position is not None:
                    found[position] = Landed(tp.topic, tp.partition, record.offset)
        # Tansu's end offsets are wrong: the highwater a fetch reports is the end.
        for tp in list(pending):
            end = consumer.highwater(tp)
            if end is None:
                continue
            at = consumer.position(tp)
            if at > end:  # shorter than the relay noted: a new log (a broker that lost its data)
                consumer.seek(tp, 0)
            elif at == end:
                pending.discard(tp)
    return found


def _position(value: bytes | None) -> int | None:
    try:
        position = orjson.loads(value or b"").get("position")
    except (orjson.JSONDecodeError, AttributeError):
        return None  # not one of ours: nothing to skip because of it
    return position if isinstance(position, int) else None
