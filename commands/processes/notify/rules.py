"""Which booking events become which messages, and when reminders are due."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from domain.notify import reminder_moment

# Booking event type -> message kind; each goes to the customer and the business.
KINDS = {
    "slotwise.booking.placed": "placed",
    "slotwise.booking.confirmed": "confirmed",
    "slotwise.booking.rescheduled": "rescheduled",
    "slotwise.booking.cancelled": "cancelled",
    "slotwise.booking.expired": "expired",
    "slotwise.booking.refunded": "refunded",
    # A waitlist entry offered a freed seat: to its customer only, who has minutes to accept.
    "slotwise.waitlist_entry.offered": "offer",
}
# Kinds that go to the customer only (the business sees offers in its own reads).
CUSTOMER_ONLY = frozenset({"offer"})
# Kinds that also go out by SMS (when the business turned SMS on).
SMS_KINDS = frozenset({"cancelled", "offer"})
# Events after which planned reminders are moot (or planned anew).
ENDS_REMINDERS = frozenset({"cancelled", "expired", "rescheduled"})
PLANS_REMINDERS = frozenset({"placed", "rescheduled"})
REMINDER = "reminder:"
# SlotWise gave up on a webhook (410, or retries ran out): its business is emailed.
WEBHOOK_DISABLED = "webhook_disabled"
WEBHOOK_DISABLED_TYPE = "slotwise.webhook.disabled"
# The business changed its settings: the reminders of its upcoming bookings follow.
SETTINGS_TYPE = "slotwise.business.notifications_set"
ACTIVE_STATUSES = frozenset({"pending_payment", "pending", "confirmed"})


def reminder_times(
    start: datetime, offsets: tuple[str, ...], zone: ZoneInfo, now: datetime
) -> list[tuple[str, datetime]]:
    """Each offset's moment, leaving out those already past when the booking was made."""
    moments = [(offset, reminder_moment(start, offset, zone)) for offset in offsets]
    return [(offset, due) for offset, due in moments if due > now]


def is_reminder(kind: str) -> bool:
    return kind.startswith(REMINDER)


def too_late(kind: str, due_at: datetime, start: datetime, now: datetime) -> bool:
    """A reminder found later than its whole offset (the appointment has begun) helps no one."""
    if not is_reminder(kind):
        return False
    # The offset in elapsed time is start - due_at (a P1D across DST is 23 or 25 hours).
    return now - due_at >= start - due_at
