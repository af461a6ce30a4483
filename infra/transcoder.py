"""An orjson transcoder for eventsourcing 9.5, wire-compatible with its JSONTranscoder.

Typed values are written as {"_type_": name, "_data_": value} exactly as the
library's JSONTranscoder writes them, so stores written by either can be read
by the other. orjson would turn UUIDs and datetimes into bare strings, so a
small walk tags them first. A dict keyed by something other than text (as
DayAllocation.held is keyed by booking id) is written as tagged key-value
pairs, "dict_pairs", which JSONTranscoder cannot write at all. Like
JSONTranscoder it takes `Transcoding`s by `register`: the application
registers its value objects and enums, which snapshots of aggregate state
need to come back as what they were.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    Transcoder,
    Transcoding,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

from commands.transcodings import DateAsISO

_PLAIN = (str, int, float, bool, type(None))
PAIRS = "dict_pairs"


class OrjsonTranscoder(Transcoder):
    """Encodes event state with orjson; see the module docstring for the format."""

    def __init__(self) -> None:
        self._by_type: dict[type, Transcoding] = {}
        self._by_name: dict[str, Transcoding] = {}
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
            self.register(transcoding)

    def register(self, transcoding: Transcoding) -> None:
        self._by_type[transcoding.type] = transcoding
        self._by_name[transcoding.name] = transcoding

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(self._tag(obj))

    def decode(self, data: bytes) -> Any:
        return self._untag(orjson.loads(data))

    def _tag(self, obj: Any) -> Any:
        kind = type(obj)
        if kind in _PLAIN:
            return obj
        if kind is dict:
            if all(type(key) is str for key in obj):
                return {key: self._tag(value) for key, value in obj.items()}
            pairs = [[self._tag(key), self._tag(value)] for key, value in obj.items()]
            return {"_type_": PAIRS, "_data_": pairs}
        if kind is list or kind is tuple:
            return [self._tag(value) for value in obj]
        transcoding = self._by_type.get(kind)
        if transcoding is not None:
            return {"_type_": transcoding.name, "_data_": self._tag(transcoding.encode(obj))}
        if isinstance(obj, Enum):  # an enum nobody registered travels as its value
            return self._tag(obj.value)
        raise TranscodingNotRegisteredError(f"Object of type {kind} is not serializable")

    def _untag(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is dict:
            if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
                if obj["_type_"] == PAIRS:
                    return {self._untag(k): self._untag(v) for k, v in obj["_data_"]}
                transcoding = self._by_name.get(obj["_type_"])
                if transcoding is None:
                    raise TranscodingNotRegisteredError(
                        f"Data serialized with name {obj['_type_']!r} is not deserializable"
                    )
                return transcoding.decode(self._untag(obj["_data_"]))
            return {key: self._untag(value) for key, value in obj.items()}
        if kind is list:
            return [self._untag(value) for value in obj]
        return obj
