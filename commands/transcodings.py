"""How the values kept in aggregate state are stored, so snapshots reload them exactly."""

from __future__ import annotations

import base64
from dataclasses import astuple, replace
from datetime import date
from typing import Any

from eventsourcing.persistence import Transcoding

from domain.booking import BookingStatus
from domain.line import Waiting
from domain.personal import Sealed
from domain.slots import Occupancy
from domain.waitlist import EntryStatus


class BookingStatusAsValue(Transcoding):
    type = BookingStatus
    name = "booking_status"

    def encode(self, obj: BookingStatus) -> str:
        return obj.value

    def decode(self, data: str) -> BookingStatus:
        return BookingStatus(data)


class OccupancyAsList(Transcoding):
    """A booking's hold in a DayAllocation: its six times and ids, then its resources if any."""

    type = Occupancy
    name = "occupancy"

    def encode(self, obj: Occupancy) -> list[Any]:
        fields = list(astuple(obj))[:6]
        return [*fields, list(obj.resources)] if obj.resources else fields

    def decode(self, data: list[Any]) -> Occupancy:
        held = Occupancy(*data[:6])
        return replace(held, resources=tuple(data[6])) if len(data) > 6 else held


class WaitingAsList(Transcoding):
    """An entry's place in a DayAllocation's line: its fields in order."""

    type = Waiting
    name = "waiting"

    def encode(self, obj: Waiting) -> list[Any]:
        return list(astuple(obj))

    def decode(self, data: list[Any]) -> Waiting:
        return Waiting(*data)


class EntryStatusAsValue(Transcoding):
    type = EntryStatus
    name = "entry_status"

    def encode(self, obj: EntryStatus) -> str:
        return obj.value

    def decode(self, data: str) -> EntryStatus:
        return EntryStatus(data)


class DateAsISO(Transcoding):
    """Dates (DayAllocation.day)."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class SealedAsDict(Transcoding):
    """Sealed personal data: the subject, its key generation and the base64 ciphertext."""

    type = Sealed
    name = "sealed"

    def encode(self, obj: Sealed) -> dict[str, Any]:
        ciphertext = base64.b64encode(obj.ciphertext).decode()
        return {"subject": obj.subject, "key_version": obj.key_version, "ciphertext": ciphertext}

    def decode(self, data: dict[str, Any]) -> Sealed:
        ciphertext = base64.b64decode(data["ciphertext"])
        return Sealed(data["subject"], data["key_version"], ciphertext)


DOMAIN_TRANSCODINGS = (
    DateAsISO(),
    BookingStatusAsValue(),
    OccupancyAsList(),
    SealedAsDict(),
    WaitingAsList(),
    EntryStatusAsValue(),
)
