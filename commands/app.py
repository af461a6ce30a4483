"""SlotWise: the one event-sourced application whose methods are the command handlers."""

from __future__ import annotations

from commands.booking import BookingHandlers
from commands.business import BusinessHandlers
from commands.service import ServiceHandlers


class SlotWise(BusinessHandlers, ServiceHandlers, BookingHandlers):
    """All aggregates share one notification log, so multi-aggregate saves are atomic."""

    name = "SlotWise"
