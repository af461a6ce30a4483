"""An orjson transcoder for eventsourcing 9.5, wire-compatible with its JSONTranscoder.

Typed values are written as {"_type_": name, "_data_": value} exactly as the
library's JSONTranscoder writes them, so stores written by either can be read
by the other. orjson would turn UUIDs and datetimes into bare strings, so a
small walk tags them first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Transcoder, TranscodingNotRegisteredError

_PLAIN = (str, int, float, bool, type(None))

_ENCODE: dict[type, tuple[str, Callable[[Any], Any]]] = {
    UUID: ("uuid_hex", lambda u: u.hex),
    Decimal: ("decimal_str", str),
    datetime: ("datetime_iso", lambda d: d.isoformat()),
    date: ("date_iso", lambda d: d.isoformat()),
}
_DECODE: dict[str, Callable[[Any], Any]] = {
    "uuid_hex": UUID,
    "decimal_str": Decimal,
    "datetime_iso": datetime.fromisoformat,
    "date_iso": date.fromisoformat,
}


def _tag(obj: Any) -> Any:
    kind = type(obj)
    if kind in _PLAIN:
        return obj
    if kind is dict:
        return {key: _tag(value) for key, value in obj.items()}
    if kind is list or kind is tuple:
        return [_tag(value) for value in obj]
    if kind in _ENCODE:
        name, encode = _ENCODE[kind]
        return {"_type_": name, "_data_": encode(obj)}
    if isinstance(obj, Enum):
        return _tag(obj.value)
    raise TranscodingNotRegisteredError(f"Object of type {kind} is not serializable")


def _untag(obj: Any) -> Any:
    kind = type(obj)
    if kind is dict:
        if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
            try:
                return _DECODE[obj["_type_"]](obj["_data_"])
            except KeyError:
                raise TranscodingNotRegisteredError(
                    f"Data serialized with name {obj['_type_']!r} is not deserializable"
                ) from None
        return {key: _untag(value) for key, value in obj.items()}
    if kind is list:
        return [_untag(value) for value in obj]
    return obj


class OrjsonTranscoder(Transcoder):
    """Encodes event state with orjson; see the module docstring for the format."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(_tag(obj))

    def decode(self, data: bytes) -> Any:
        return _untag(orjson.loads(data))
