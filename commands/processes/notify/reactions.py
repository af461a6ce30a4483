"""The notifier's reactions: each booking event (and each waitlist offer) becomes intents and
reminder timers.

It runs on the consumer runtime (through infra/notify/consumer.py), so every
intent is written in the same transaction as the checkpoint: a crash or a
redelivery never loses or doubles one. It sends nothing; `Deliveries` does.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from commands.processes.notify.ports import BusinessFacts, Directory, Intent, Outbox
from commands.processes.notify.rules import (
    CUSTOMER_ONLY,
    ENDS_REMINDERS,
    KINDS,
    PLANS_REMINDERS,
    REMINDER,
    SMS_KINDS,
    reminder_times,
)
from domain.envelope import Envelope


class NotifyReactions:
    """Decides, per booking event, who is told what and which reminders to keep."""

    name = "notifier"

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def handles(self, event_type: str) -> bool:
        return event_type in KINDS

    def react(self, outbox: Outbox, envelope: Envelope) -> None:
        kind = KINDS[envelope.type]
        booking_id, version = envelope.subject, envelope.aggregateversion
        business_id = self._business_of(envelope)
        if business_id is None:
            return
        business = self.directory.business(business_id)
        if business is None:
            return
        now = envelope.occurred_at
        channels = [("email", "customer")]
        if kind not in CUSTOMER_ONLY:
            channels.append(("email", "business"))
        if kind in SMS_KINDS and business.settings.sms:
            channels.append(("sms", "customer"))
        for channel, audience in channels:
            intent = Intent(booking_id, business_id, kind, version, channel, audience, now)
            outbox.plan(intent, envelope.id)
        if kind in ENDS_REMINDERS:
            outbox.drop_reminders(booking_id, f"the booking was {kind}")
        if kind in PLANS_REMINDERS:
            self._plan_reminders(outbox, envelope, business)

    def _plan_reminders(self, outbox: Outbox, envelope: Envelope, business: BusinessFacts) -> None:
        if not business.settings.reminders:
            return
        business_id = business.id
        start = envelope.instant("start")
        zone = ZoneInfo(business.timezone)
        moments = reminder_times(start, business.settings.reminders, zone, envelope.occurred_at)
        for offset, due in moments:
            for channel in ("email", "sms") if business.settings.sms else ("email",):
                intent = Intent(
                    envelope.subject,
                    business_id,
                    REMINDER + offset,
                    envelope.aggregateversion,
                    channel,
                    "customer",
                    due,
                )
                outbox.plan(intent, envelope.id)

    def _business_of(self, envelope: Envelope) -> str | None:
        if "business_id" in envelope.data:
            return str(envelope.data["business_id"])
        return self.directory.business_of(envelope.subject)
