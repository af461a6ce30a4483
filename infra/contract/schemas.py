"""A JSON Schema (2020-12) for the envelope of each public event type, from its class."""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate as LibraryAggregate
from eventsourcing.domain import _created_event_classes

from domain.booking import Booking
from domain.business import Business
from domain.envelope import SOURCE, SPEC_VERSION, event_type, snake
from domain.personal import Sealed
from domain.service import Service
from domain.waitlist import WaitlistEntry
from infra.envelopes import NOT_DATA

PUBLIC_AGGREGATES = (Business, Service, Booking, WaitlistEntry)
# Attributes every event class inherits that are not its data.
INHERITED = frozenset({*NOT_DATA, "originator_id_type", "class_version"})
SCHEMA_BASE = "https://slotwise.dev/schemas/"


def public_event_classes() -> dict[str, type]:
    """'slotwise.booking.placed' -> Booking.Placed, for every public event type."""
    found: dict[str, type] = {}
    for aggregate in PUBLIC_AGGREGATES:
        for name, value in vars(aggregate).items():
            if (
                isinstance(value, type)
                and issubclass(value, aggregate.Event)
                and value is not aggregate.Event
                and value in _recordable(aggregate)
            ):
                found[event_type(snake(aggregate.__name__), name)] = value
    return dict(sorted(found.items()))


def _recordable(aggregate: type) -> set[type]:
    """The aggregate's event classes that are ever recorded (not the library's base `Created`)."""
    created = set(_created_event_classes.get(aggregate, []))
    return {
        v
        for v in vars(aggregate).values()
        if isinstance(v, type) and (v in created or not issubclass(v, LibraryAggregate.Created))
    }


SEALED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "personal data (contact, notes, a reason): AES-256-GCM ciphertext under the "
    "subject's key generation; unreadable once the key is erased",
    "properties": {
        "subject": {"type": "string"},
        "key_version": {"type": "integer"},
        "ciphertext": {"type": "string", "contentEncoding": "base64"},
    },
    "required": ["subject", "key_version", "ciphertext"],
    "additionalProperties": False,
}


def value_schema(hint: Any) -> dict[str, Any]:
    """The JSON form of a Python type as `infra.envelopes.json_safe` writes it."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [value_schema(a) for a in args]}
    if origin in (list, tuple, set, frozenset):
        return {"type": "array", "items": value_schema(args[0]) if args else {}}
    if origin is dict:
        return {"type": "object", "additionalProperties": value_schema(args[1]) if args else {}}
    simple: dict[Any, dict[str, Any]] = {
        type(None): {"type": "null"},
        str: {"type": "string"},
        bool: {"type": "boolean"},
        int: {"type": "integer"},
        float: {"type": "number"},
        UUID: {"type": "string", "format": "uuid"},
        datetime: {"type": "string", "format": "date-time"},
        date: {"type": "string", "format": "date"},
        Decimal: {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"},
    }
    if hint in simple:
        return dict(simple[hint])
    if isinstance(hint, type) and issubclass(hint, Enum):
        return {"type": "string", "enum": [str(member.value) for member in hint]}
    if hint is Sealed:
        return SEALED_SCHEMA
    if hint is Any:  # free-form JSON (a resource's metadata)
        return {}
    raise TypeError(f"no JSON Schema for {hint!r}")


def data_schema(event_class: type) -> dict[str, Any]:
    hints = typing.get_type_hints(event_class)
    fields = {k: v for k, v in hints.items() if k not in INHERITED}
    return {
        "type": "object",
        "properties": {name: value_schema(hint) for name, hint in fields.items()},
        "required": sorted(fields),
        "additionalProperties": False,
    }


def envelope_schema(type_name: str, event_class: type) -> dict[str, Any]:
    """The whole CloudEvents envelope of one event type, as its Kafka message value."""
    aggregate_type = type_name.split(".")[1]
    text = {"type": "string", "minLength": 1}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE}{type_name}.json",
        "title": type_name,
        "description": f"The envelope of a {type_name} event (CloudEvents 1.0, structured "
        "mode): the value of its Kafka message. Its data is described in docs/events.md.",
        "type": "object",
        "properties": {
            "specversion": {"const": SPEC_VERSION},
            "id": {"type": "string", "format": "uuid"},
            "source": {"const": SOURCE},
            "type": {"const": type_name},
            "subject": {"type": "string", "format": "uuid", "description": "the aggregate id"},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"const": "application/json"},
            "position": {"type": "integer", "minimum": 1, "description": "global log position"},
            "aggregatetype": {"const": aggregate_type},
            "aggregateversion": {"type": "integer", "minimum": 1},
            "schemaversion": {"const": getattr(event_class, "class_version", 1)},
            "actorid": text,
            "actorrole": text,
            "correlationid": text,
            "causationid": text,
            "data": data_schema(event_class),
        },
        "required": [
            "specversion",
            "id",
            "source",
            "type",
            "subject",
            "time",
            "datacontenttype",
            "position",
            "aggregatetype",
            "aggregateversion",
            "schemaversion",
            "actorid",
            "actorrole",
            "correlationid",
            "causationid",
            "data",
        ],
        "additionalProperties": False,
    }


def all_schemas() -> dict[str, dict[str, Any]]:
    return {name: envelope_schema(name, cls) for name, cls in public_event_classes().items()}
