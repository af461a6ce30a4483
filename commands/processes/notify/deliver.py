"""What one due intent comes to: an email, an SMS, or a reason to send nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from commands.processes.notify import compose
from commands.processes.notify.ports import Directory, Email, Intent
from commands.processes.notify.rules import (
    ACTIVE_STATUSES,
    WEBHOOK_DISABLED,
    is_reminder,
    too_late,
)


@dataclass(frozen=True)
class Sms:
    to: str
    body: str


@dataclass(frozen=True)
class Skip:
    why: str


def prepare(
    intent: Intent,
    intent_id: str,
    directory: Directory,
    now: datetime,
    mail_domain: str,
    sms_enabled: bool,
) -> Email | Sms | Skip:
    """The message for a due intent, from the booking as it stood at the intent's version."""
    if intent.kind == WEBHOOK_DISABLED:
        return _webhook_disabled(intent, intent_id, directory, mail_domain)
    booking = directory.booking(intent.booking_id, intent.version)
    business = directory.business(intent.business_id)
    if booking is None or business is None:
        return Skip("the booking or its business is gone")
    if intent.kind == "offer" and booking.current_status != "offered":
        return Skip(f"the offer is over: the entry is {booking.current_status}")
    if is_reminder(intent.kind):
        if booking.current_status not in ACTIVE_STATUSES:
            return Skip(f"the booking is {booking.current_status}")
        if too_late(intent.kind, intent.due_at, booking.start, now):
            return Skip(f"too late: due at {intent.due_at.isoformat()}, now {now.isoformat()}")
    contact = booking.contact or {}
    lang = compose.language(contact.get("locale"), business.settings.locale)
    if intent.audience == "business":
        lang = business.settings.locale
    if intent.channel == "sms":
        phone = contact.get("phone")
        if not sms_enabled or not business.settings.sms:
            return Skip("SMS is off")
        if not phone:
            return Skip("no phone number (none given, or erased)")
        return Sms(phone, compose.sms(intent, booking, business, lang))
    address = (
        contact.get("email") if intent.audience == "customer" else business.settings.notify_email
    )
    if not address:
        return Skip("no email address (none given, or erased)")
    return compose.email(intent, intent_id, address, booking, business, lang, mail_domain)


def _webhook_disabled(
    intent: Intent, intent_id: str, directory: Directory, mail_domain: str
) -> Email | Skip:
    """The business's email about a webhook SlotWise gave up on."""
    webhook = directory.webhook(intent.booking_id, intent.version)
    business = directory.business(intent.business_id)
    if webhook is None or business is None:
        return Skip("the webhook or its business is gone")
    address = business.settings.notify_email
    if not address:
        return Skip("no email address (the business set no notify_email)")
    lang = business.settings.locale
    return compose.webhook_email(intent_id, address, webhook, business, lang, mail_domain)
