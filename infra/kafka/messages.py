"""Envelopes as Kafka messages (CloudEvents structured mode) and back.

Key = aggregate id, so one aggregate's events share a partition and keep their
order; value = the envelope's JSON (orjson); one header, `content-type:
application/cloudevents+json`. No `ce_` headers: CloudEvents readers take a
record with any `ce_` header for binary mode and would misread the value (the
correlation id and every other attribute are in the envelope itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.envelope import Envelope
from infra.consumers.runtime import Delivery
from infra.consumers.runtime import undecodable as stand_in
from infra.envelopes import envelope_from_json, envelope_to_json
from infra.kafka.topics import topic_for

CONTENT_TYPE = b"application/cloudevents+json"  # JSON is UTF-8 (RFC 8259)


@dataclass(frozen=True)
class Record:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def to_record(envelope: Envelope, prefix: str) -> Record:
    headers = [("content-type", CONTENT_TYPE)]
    return Record(
        topic_for(prefix, envelope.aggregatetype),
        envelope.subject.encode(),
        envelope_to_json(envelope),
        headers,
    )


def to_delivery(offset: int, key: bytes | None, value: bytes | None) -> Delivery:
    """The message as a delivery; a value that is no envelope still travels, to be parked."""
    try:
        if value is None:
            raise ValueError("the message has no value")
        return Delivery(offset, envelope_from_json(value))
    except Exception as error:  # a poison message must not stall its partition
        return Delivery(offset, undecodable(key, value, error))


def undecodable(key: bytes | None, value: bytes | None, error: Exception) -> Envelope:
    subject = key.decode(errors="replace") if key else ""
    data: dict[str, Any] = {
        "error": f"{type(error).__name__}: {error}"[:1000],
        "value": (value or b"")[:1000].decode(errors="replace"),
    }
    return stand_in(f"undecodable:{subject}"[:64], subject[:64], data)
