"""How the values kept in aggregate state are stored, so snapshots reload them exactly."""

from __future__ import annotations

from dataclasses import astuple
from datetime import date
from typing import Any

from eventsourcing.persistence import Transcoding

from domain.booking import BookingStatus
from domain.slots import Occupancy


class BookingStatusAsValue(Transcoding):
    type = BookingStatus
    name = "booking_status"

    def encode(self, obj: BookingStatus) -> str:
        return obj.value

    def decode(self, data: str) -> BookingStatus:
        return BookingStatus(data)


class OccupancyAsList(Transcoding):
    """A booking's hold in a DayAllocation: its six fields, in order."""

    type = Occupancy
    name = "occupancy"

    def encode(self, obj: Occupancy) -> list[Any]:
        return list(astuple(obj))

    def decode(self, data: list[Any]) -> Occupancy:
        return Occupancy(*data)


class DateAsISO(Transcoding):
    """Dates (DayAllocation.day)."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


DOMAIN_TRANSCODINGS = (DateAsISO(), BookingStatusAsValue(), OccupancyAsList())
