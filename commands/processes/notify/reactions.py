"""The notifier's reactions: each booking event (and each waitlist offer) becomes intents and
reminder timers.

It runs on the consumer runtime (through infra/notify/consumer.py), so every
intent is written in the same transaction as the checkpoint: a crash or a
redelivery never loses or doubles one. It sends nothing; `Deliveries` does.

Besides booking events it reacts to a webhook SlotWise disabled (the business
is emailed) and to new notification settings (the reminders of the business's
upcoming bookings are planned again at the new offsets).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from commands.processes.notify.ports import Directory, Intent, Outbox, Upcoming
from commands.processes.notify.rules import (
    CUSTOMER_ONLY,
    ENDS_REMINDERS,
    KINDS,
    PLANS_REMINDERS,
    REMINDER,
    SETTINGS_TYPE,
    SMS_KINDS,
    WEBHOOK_DISABLED,
    WEBHOOK_DISABLED_TYPE,
    reminder_times,
)
from domain.envelope import Envelope
from domain.notify import NotificationSettings


class NotifyReactions:
    """Decides, per event, who is told what and which reminders to keep."""

    name = "notifier"

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def handles(self, event_type: str) -> bool:
        return event_type in KINDS or event_type in (WEBHOOK_DISABLED_TYPE, SETTINGS_TYPE)

    def react(self, outbox: Outbox, envelope: Envelope) -> None:
        if envelope.type == WEBHOOK_DISABLED_TYPE:
            self._webhook_disabled(outbox, envelope)
        elif envelope.type == SETTINGS_TYPE:
            self._settings_changed(outbox, envelope)
        else:
            self._booking_event(outbox, envelope)

    def _booking_event(self, outbox: Outbox, envelope: Envelope) -> None:
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
            outbox.untrack(booking_id)
        if kind in PLANS_REMINDERS:
            booking = Upcoming(booking_id, business_id, envelope.instant("start"), version)
            outbox.track(booking)
            self._plan_reminders(
                outbox, booking, business.settings, business.timezone, now, envelope.id
            )

    def _settings_changed(self, outbox: Outbox, envelope: Envelope) -> None:
        """Upcoming bookings get the new offsets' reminders; removed offsets' are skipped."""
        business_id, now = envelope.subject, envelope.occurred_at
        business = self.directory.business(business_id)
        if business is None:
            return
        settings = NotificationSettings.from_event(dict(envelope.data))
        before = self.directory.settings_at(business_id, envelope.aggregateversion - 1)
        if before is not None and (before.reminders, before.sms) == (
            settings.reminders,
            settings.sms,
        ):
            return  # e.g. only notify_email or locale changed: every reminder stays as planned
        keep = frozenset(REMINDER + offset for offset in settings.reminders)
        for booking in outbox.upcoming(business_id, now):
            outbox.drop_reminders(
                booking.booking_id, "the business no longer sends this reminder", keep
            )
            self._plan_reminders(
                outbox, booking, settings, business.timezone, now, envelope.id, again=True
            )

    def _plan_reminders(
        self,
        outbox: Outbox,
        booking: Upcoming,
        settings: NotificationSettings,
        timezone: str,
        now: datetime,
        cause: str,
        *,
        again: bool = False,
    ) -> None:
        if not settings.reminders:
            return
        moments = reminder_times(booking.start, settings.reminders, ZoneInfo(timezone), now)
        plan = outbox.replan if again else outbox.plan
        for offset, due in moments:
            for channel in ("email", "sms") if settings.sms else ("email",):
                intent = Intent(
                    booking.booking_id,
                    booking.business_id,
                    REMINDER + offset,
                    booking.version,
                    channel,
                    "customer",
                    due,
                )
                plan(intent, cause)

    def _webhook_disabled(self, outbox: Outbox, envelope: Envelope) -> None:
        """SlotWise gave up on a webhook: the business is told by email (its notify_email)."""
        webhook = self.directory.webhook(envelope.subject, envelope.aggregateversion)
        if webhook is None:
            return
        intent = Intent(
            webhook.id,
            webhook.business_id,
            WEBHOOK_DISABLED,
            envelope.aggregateversion,
            "email",
            "business",
            envelope.occurred_at,
        )
        outbox.plan(intent, envelope.id)

    def _business_of(self, envelope: Envelope) -> str | None:
        if "business_id" in envelope.data:
            return str(envelope.data["business_id"])
        return self.directory.business_of(envelope.subject)
