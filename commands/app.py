"""SlotWise: the one event-sourced application whose methods are the command handlers."""

from __future__ import annotations

from typing import Protocol, cast

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    Transcoder,
    Transcoding,
    UUIDAsHex,
)

from commands.business import BusinessHandlers
from commands.notifications import NotificationHandlers
from commands.payments import PaymentHandlers
from commands.resources import ResourceHandlers
from commands.series import SeriesHandlers
from commands.service import ServiceHandlers
from commands.transcodings import DOMAIN_TRANSCODINGS
from commands.waitlist import WaitlistHandlers
from commands.webhooks import WebhookHandlers


class Registry(Protocol):
    def register(self, transcoding: Transcoding) -> None: ...


class SlotWise(
    BusinessHandlers,
    ServiceHandlers,
    ResourceHandlers,
    SeriesHandlers,
    WaitlistHandlers,
    PaymentHandlers,
    NotificationHandlers,
    WebhookHandlers,
):
    """All aggregates share one notification log, so multi-aggregate saves are atomic."""

    name = "SlotWise"

    def construct_transcoder(self) -> Transcoder:
        # Ours (infra.transcoder) and the library's JSONTranscoder both take registrations.
        transcoder = self.factory.transcoder()
        register_all(cast(Registry, transcoder))
        return transcoder


def register_all(transcoder: Registry) -> None:
    """The library's transcodings and the domain's, as every SlotWise store is written."""
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), *DOMAIN_TRANSCODINGS):
        transcoder.register(transcoding)
