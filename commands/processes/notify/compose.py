"""Messages from templates: subject, text, HTML and SMS in the reader's language and zone.

Templates are package data beside this module (`templates/`), one set per
locale (`subject.de.txt`, `body.de.txt`, `body.de.html`, `sms.de.txt`); a
locale without its own set reads English. The HTML environment escapes
every value (names come from customers and owners); the text one does not.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from uuid import NAMESPACE_URL, uuid5
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined

from commands.processes.notify.ics import CalendarEntry, calendar, location
from commands.processes.notify.ports import (
    BookingFacts,
    BusinessFacts,
    Email,
    Intent,
    WebhookFacts,
)
from domain.notify import LOCALES

MESSAGE_ID_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotwise.dev/message")
FORMATS = {"en": "%a %d %b %Y, %H:%M %Z", "de": "%d.%m.%Y, %H:%M %Z"}


@cache
def _environment(html: bool) -> Environment:
    return Environment(
        loader=PackageLoader("commands.processes.notify", "templates"),
        autoescape=html,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def language(locale: str | None, fallback: str = "en") -> str:
    """'de-AT' -> 'de'; a language we have no templates for reads English."""
    wanted = (locale or fallback).split("-")[0].lower()
    return wanted if wanted in LOCALES else "en"


def message_id(intent_id: str, domain: str) -> str:
    """The same intent always gets the same Message-ID (a resend would be recognisable)."""
    return f"<{uuid5(MESSAGE_ID_NAMESPACE, intent_id)}@{domain}>"


def values(
    intent: Intent, booking: BookingFacts, business: BusinessFacts, lang: str
) -> dict[str, Any]:
    zone = ZoneInfo(business.timezone)
    start, end = booking.start.astimezone(zone), booking.end.astimezone(zone)
    name = (booking.contact or {}).get("name") if intent.audience == "customer" else None
    expires = booking.offer_expires_at
    return {
        "kind": "reminder" if intent.kind.startswith("reminder:") else intent.kind,
        "service": booking.service_name,
        "business": business.name,
        "address": business.address,
        "when": _local(start, lang),
        "until": end.strftime("%H:%M %Z"),
        "zone": business.timezone,
        "name": name,
        "booking_id": booking.id,
        "offer_until": _local(expires.astimezone(zone), lang) if expires else "",
    }


def _local(moment: datetime, lang: str) -> str:
    return moment.strftime(FORMATS[lang])


def render(name: str, lang: str, context: dict[str, Any], *, html: bool = False) -> str:
    return (
        _environment(html)
        .get_template(f"{name}.{lang}.{'html' if html else 'txt'}")
        .render(context)
    )


def email(
    intent: Intent,
    intent_id: str,
    to: str,
    booking: BookingFacts,
    business: BusinessFacts,
    lang: str,
    mail_domain: str,
) -> Email:
    """The email for `intent`, with its calendar file (CANCEL when the booking is off; none
    for a waitlist offer, which is no appointment until accepted)."""
    context = values(intent, booking, business, lang)
    if intent.kind == "offer":
        return Email(
            message_id=message_id(intent_id, mail_domain),
            to=to,
            subject=render("subject", lang, context).strip(),
            text=render("body", lang, context),
            html=render("body", lang, context, html=True),
            ics=b"",
            ics_method="",
        )
    cancelled = intent.kind in ("cancelled", "expired")
    entry = CalendarEntry(
        booking.id,
        booking.version,
        booking.start,
        booking.end,
        f"{booking.service_name} · {business.name}",
        cancelled=cancelled,
        location=location(business.name, business.address),
    )
    method = "CANCEL" if cancelled else "REQUEST"
    return Email(
        message_id=message_id(intent_id, mail_domain),
        to=to,
        subject=render("subject", lang, context).strip(),
        text=render("body", lang, context),
        html=render("body", lang, context, html=True),
        ics=calendar([entry], business.timezone, method),
        ics_method=method,
    )


def sms(intent: Intent, booking: BookingFacts, business: BusinessFacts, lang: str) -> str:
    return render("sms", lang, values(intent, booking, business, lang)).strip()


def webhook_email(
    intent_id: str,
    to: str,
    webhook: WebhookFacts,
    business: BusinessFacts,
    lang: str,
    mail_domain: str,
) -> Email:
    """To the business: SlotWise stopped calling one of its webhooks, and why."""
    context = {
        "business": business.name,
        "url": webhook.url,
        "description": webhook.description,
        "reason": webhook.reason,
        "when": _local(webhook.disabled_at.astimezone(ZoneInfo(business.timezone)), lang),
        "webhook_id": webhook.id,
    }
    return Email(
        message_id=message_id(intent_id, mail_domain),
        to=to,
        subject=render("webhook-subject", lang, context).strip(),
        text=render("webhook-body", lang, context),
        html=render("webhook-body", lang, context, html=True),
        ics=None,
        ics_method="",
    )
