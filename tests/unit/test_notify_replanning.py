"""The notifier's reactions to new reminder offsets, against an outbox held in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from commands.processes.notify.ports import BusinessFacts, Intent, Upcoming, WebhookFacts
from commands.processes.notify.reactions import NotifyReactions
from domain.envelope import Envelope
from domain.notify import NotificationSettings

START = datetime(2027, 3, 8, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
BUSINESS = "b-1"


@dataclass
class MemoryOutbox:
    planned: dict[str, Intent] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    tracked: dict[str, Upcoming] = field(default_factory=dict)

    def plan(self, intent: Intent, cause: str) -> None:
        self.planned.setdefault(f"{intent.booking_id}/{intent.kind}/{intent.channel}", intent)

    def replan(self, intent: Intent, cause: str) -> None:
        key = f"{intent.booking_id}/{intent.kind}/{intent.channel}"
        self.skipped.pop(key, None)
        self.planned.setdefault(key, intent)

    def drop_reminders(self, booking_id: str, why: str, keep: frozenset[str] = frozenset()) -> None:
        for key, intent in list(self.planned.items()):
            reminder = intent.kind.startswith("reminder:")
            if intent.booking_id == booking_id and reminder and intent.kind not in keep:
                self.skipped[key] = why
                del self.planned[key]

    def track(self, booking: Upcoming) -> None:
        self.tracked[booking.booking_id] = booking

    def untrack(self, booking_id: str) -> None:
        self.tracked.pop(booking_id, None)

    def upcoming(self, business_id: str, after: datetime) -> list[Upcoming]:
        return [b for b in self.tracked.values() if b.start > after]


class OneBusiness:
    def __init__(self, before: NotificationSettings | None = None) -> None:
        self.before = before

    def settings_at(self, business_id: str, version: int) -> NotificationSettings | None:
        return self.before

    def business(self, business_id: str) -> BusinessFacts | None:
        return BusinessFacts(business_id, "Salon", "Europe/Berlin")

    def booking(self, booking_id: str, version: int) -> None:
        return None

    def business_of(self, booking_id: str) -> str | None:
        return BUSINESS

    def webhook(self, webhook_id: str, version: int) -> WebhookFacts | None:
        return None


def settings_set(reminders: list[str], at: datetime, sms: bool = False) -> Envelope:
    data = NotificationSettings(None, tuple(reminders), sms=sms).as_event()
    return envelope("slotwise.business.notifications_set", BUSINESS, data, at, "business", 9)


def envelope(
    kind: str, subject: str, data: dict[str, object], at: datetime, aggregate: str, version: int
) -> Envelope:
    return Envelope(
        f"e-{subject}-{version}", kind, subject, at.isoformat(), data, 1, aggregate, version, 2,
        "owner", "owner", "c", "c",
    )  # fmt: skip


def test_offsets_whose_moment_passed_before_the_change_are_not_planned() -> None:
    outbox = MemoryOutbox()
    outbox.track(Upcoming("k-1", BUSINESS, START, 1))
    changed = START - timedelta(hours=3)
    NotifyReactions(OneBusiness()).react(outbox, settings_set(["P1D", "PT2H", "PT30M"], changed))
    assert sorted(i.kind for i in outbox.planned.values()) == ["reminder:PT2H", "reminder:PT30M"]
    assert {i.version for i in outbox.planned.values()} == {1}  # the version they are of


def test_bookings_that_began_or_ended_are_left_alone_and_sms_follows_the_settings() -> None:
    outbox = MemoryOutbox()
    at = START - timedelta(days=3)
    outbox.track(Upcoming("began", BUSINESS, at - timedelta(hours=1), 1))
    outbox.track(Upcoming("later", BUSINESS, START, 4))
    outbox.track(Upcoming("gone", BUSINESS, START, 1))
    cancelled = {"business_id": BUSINESS}
    reactions = NotifyReactions(OneBusiness())
    reactions.react(
        outbox, envelope("slotwise.booking.cancelled", "gone", cancelled, at, "booking", 2)
    )
    reactions.react(outbox, settings_set(["P1D"], at, sms=True))
    planned = sorted(
        (i.booking_id, i.kind, i.channel)
        for i in outbox.planned.values()
        if i.kind.startswith("reminder:")
    )
    assert "gone" not in outbox.tracked
    assert planned == [
        ("later", "reminder:P1D", "email"),
        ("later", "reminder:P1D", "sms"),
    ]


def test_settings_that_keep_the_offsets_and_sms_leave_every_reminder_alone() -> None:
    outbox = MemoryOutbox()
    outbox.track(Upcoming("k-1", BUSINESS, START, 1))
    same = NotificationSettings("desk@salon.example", ("P1D",), locale="de")
    reactions = NotifyReactions(OneBusiness(before=same))
    reactions.react(outbox, settings_set(["P1D"], START - timedelta(days=3)))
    assert outbox.planned == {}  # nothing re-planned: the booking's reminders stand
    reactions = NotifyReactions(OneBusiness(before=same))
    reactions.react(outbox, settings_set(["P1D"], START - timedelta(days=3), sms=True))
    assert sorted(i.channel for i in outbox.planned.values()) == ["email", "sms"]
