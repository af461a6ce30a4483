"""The one function that turns a recorded event into its envelope, and the envelope's JSON."""

from __future__ import annotations

import base64
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, Notification

from domain.cause import CAUSE_FIELDS
from domain.envelope import Envelope, event_id, event_type, snake

# Event attributes that become envelope attributes rather than `data`.
NOT_DATA = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", *CAUSE_FIELDS}
)


PLAIN = frozenset({str, int, bool, float, type(None)})
TEXT = frozenset({UUID, Decimal})
INSTANTS = frozenset({datetime, date})


def json_safe(value: Any) -> Any:
    """`value` with decimals as strings, instants as ISO 8601 with offset, ids as text."""
    kind = type(value)  # exact types first: every event of a replay comes through here
    if kind in PLAIN:
        return value
    if kind in TEXT:
        return str(value)
    if kind in INSTANTS:
        return value.isoformat()
    if value is None or isinstance(value, str | bool | int | float):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, dict):
        return {str(json_safe(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, Enum):
        return json_safe(value.value)
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):  # sealed personal data: its ciphertext, never plaintext
        return base64.b64encode(value).decode()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_safe(getattr(value, f.name)) for f in fields(value)}
    raise TypeError(f"{type(value).__name__} has no JSON form in an envelope")


def envelope_of(event: Any, position: int) -> Envelope:
    """The envelope of a domain event recorded at global `position`."""
    aggregate_type, type_name = names_of(type(event))
    state = vars(event)
    return Envelope(
        id=event_id(event.originator_id, event.originator_version),
        type=type_name,
        subject=str(event.originator_id),
        time=event.timestamp.isoformat(),
        data={k: json_safe(v) for k, v in state.items() if k not in NOT_DATA},
        position=position,
        aggregatetype=aggregate_type,
        aggregateversion=event.originator_version,
        schemaversion=getattr(type(event), "class_version", 1),
        actorid=state["actor_id"],
        actorrole=state["actor_role"],
        correlationid=state["correlation_id"],
        causationid=state["causation_id"],
    )


_NAMES: dict[type, tuple[str, str]] = {}


def names_of(event_class: type) -> tuple[str, str]:
    """The aggregate type and the envelope type of an event class (worked out once: replays)."""
    found = _NAMES.get(event_class)
    if found is None:
        aggregate_name, _, event_name = event_class.__qualname__.rpartition(".")
        aggregate_type = snake(aggregate_name)
        found = _NAMES[event_class] = (aggregate_type, event_type(aggregate_type, event_name))
    return found


def envelope_from_record(notification: Notification, mapper: Mapper[UUID]) -> Envelope:
    """Decode (and upcast) a notification-log record, then wrap it."""
    return envelope_of(mapper.to_domain_event(notification), notification.id)


def envelope_to_json(envelope: Envelope) -> bytes:
    return orjson.dumps(envelope.as_dict())


def envelope_from_json(raw: bytes | str) -> Envelope:
    return Envelope.from_dict(orjson.loads(raw))
