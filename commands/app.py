"""SlotWise: the one event-sourced application whose methods are the command handlers."""

from __future__ import annotations

from datetime import date

from eventsourcing.persistence import JSONTranscoder, Transcoding

from commands.booking import BookingHandlers
from commands.business import BusinessHandlers
from commands.service import ServiceHandlers


class DateAsISO(Transcoding):
    """Dates (DayAllocation.day) for the library's JSONTranscoder, named as ours names them."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class SlotWise(BusinessHandlers, ServiceHandlers, BookingHandlers):
    """All aggregates share one notification log, so multi-aggregate saves are atomic."""

    name = "SlotWise"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
