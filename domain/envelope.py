"""The envelope: how every consumer sees a recorded event (CloudEvents 1.0, structured JSON).

Projectors, the audit API, the Kafka relay and process managers all read
envelopes, never event-store library objects, so projecting from the event
store and from a Kafka topic is the same code. `data` holds JSON-safe values:
decimals as strings, instants as ISO 8601 with an offset, ids as strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

SPEC_VERSION = "1.0"
SOURCE = "/slotwise"
TYPE_PREFIX = "slotwise"
EVENT_ID_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotwise.dev/event")
# Aggregate types whose events are the public contract (and get Kafka topics).
PUBLIC_AGGREGATE_TYPES = ("business", "service", "booking", "waitlist_entry")


def event_id(aggregate_id: UUID | str, version: int) -> str:
    """The stable id of an aggregate's event at `version`: the same on every replay."""
    return str(uuid5(EVENT_ID_NAMESPACE, f"{aggregate_id}/{version}"))


def snake(name: str) -> str:
    """'MarkedNoShow' -> 'marked_no_show'; 'DayAllocation' -> 'day_allocation'."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def event_type(aggregate_type: str, event_name: str) -> str:
    """'slotwise.booking.marked_no_show' for a booking's MarkedNoShow event."""
    return f"{TYPE_PREFIX}.{aggregate_type}.{snake(event_name)}"


@dataclass(frozen=True)
class Envelope:
    """One recorded event with its CloudEvents attributes and SlotWise extensions."""

    id: str
    type: str
    subject: str
    time: str
    data: Mapping[str, Any]
    position: int
    aggregatetype: str
    aggregateversion: int
    schemaversion: int
    actorid: str
    actorrole: str
    correlationid: str
    causationid: str
    source: str = SOURCE
    specversion: str = SPEC_VERSION
    datacontenttype: str = "application/json"

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Envelope:
        """Parse an envelope as it travels (e.g. a Kafka message value)."""
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in raw.items() if k in known})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def aggregate_id(self) -> UUID:
        return UUID(self.subject)

    @property
    def occurred_at(self) -> datetime:
        return datetime.fromisoformat(self.time)

    def instant(self, name: str) -> datetime:
        """An ISO 8601 instant from `data`."""
        return datetime.fromisoformat(str(self.data[name]))

    def decimal(self, name: str) -> Decimal:
        return Decimal(str(self.data[name]))

    def text(self, name: str) -> str:
        return str(self.data[name])
