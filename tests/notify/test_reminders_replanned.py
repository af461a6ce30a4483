"""New reminder offsets reach the upcoming bookings: added ones planned, removed ones skipped."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.e2e.conftest import ANN, MONDAY, OTHER_OWNER, OWNER, TUESDAY, local
from tests.notify.conftest import CUSTOMER_EMAIL, Post

TEN, NOON = local(MONDAY, 10), local(MONDAY, 12)


def book(post: Post, service_id: str, start: datetime) -> str:
    contact = {"name": "Ann", "email": CUSTOMER_EMAIL, "locale": "en"}
    body = {"service_id": service_id, "start": start.isoformat(), "contact": contact}
    answer = post.api.command("POST", "/v1/bookings", ANN, "customer", body, 201).json()
    return str(answer["id"])


def reminders(
    post: Post, business_id: str, booking_id: str, owner: str = OWNER
) -> dict[str, dict[str, Any]]:
    """kind -> log entry of the booking's email reminders."""
    path = f"/v1/businesses/{business_id}/notifications"
    return {
        e["kind"]: e
        for e in post.api.query(path, owner, "owner").json()["items"]
        if e["booking_id"] == booking_id and e["kind"].startswith("reminder:")
    }


def statuses(post: Post, business_id: str, booking_id: str, owner: str = OWNER) -> dict[str, str]:
    return {k: e["status"] for k, e in reminders(post, business_id, booking_id, owner).items()}


def sent_reminders(post: Post) -> int:
    return sum(m["Subject"].startswith("Reminder") for m in post.mailbox.messages)


def at(post: Post, moment: datetime) -> None:
    post.clock.now = moment
    post.deliver()


def test_changed_offsets_replan_the_reminders_of_upcoming_bookings_only(post: Post) -> None:
    salon = post.api.open_salon()
    other = post.api.open_salon(owner=OTHER_OWNER, slug="elsewhere")
    post.settings(salon, reminders=["P1D"])
    path = f"/v1/businesses/{other.business_id}/notifications"
    post.api.command("PUT", path, OTHER_OWNER, "owner", {"reminders": ["P1D"]}, 200)
    kept = book(post, salon.service_id, TEN)
    cancelled = book(post, salon.service_id, NOON)
    theirs = book(post, other.service_id, TEN)
    post.api.act(cancelled, "cancel", ANN, "customer", {"reason": "ill"})
    post.deliver()

    post.settings(salon, reminders=["PT2H", "PT30M"])
    post.deliver()
    planned = reminders(post, salon.business_id, kept)
    assert {k: e["status"] for k, e in planned.items()} == {
        "reminder:P1D": "skipped",
        "reminder:PT2H": "planned",
        "reminder:PT30M": "planned",
    }
    assert "no longer sends" in planned["reminder:P1D"]["error"]
    due = {k: datetime.fromisoformat(e["due_at"]) for k, e in planned.items()}
    assert due["reminder:PT2H"] == TEN - timedelta(hours=2)
    assert due["reminder:PT30M"] == TEN - timedelta(minutes=30)
    assert statuses(post, salon.business_id, cancelled) == {"reminder:P1D": "skipped"}
    assert statuses(post, other.business_id, theirs, OTHER_OWNER) == {"reminder:P1D": "planned"}

    at(post, TEN - timedelta(days=1))
    assert statuses(post, other.business_id, theirs, OTHER_OWNER) == {"reminder:P1D": "sent"}
    assert sent_reminders(post) == 1  # theirs only: ours no longer has a day-before one
    at(post, TEN - timedelta(hours=2))
    assert sent_reminders(post) == 2
    at(post, TEN - timedelta(minutes=30))
    assert sent_reminders(post) == 3
    assert statuses(post, salon.business_id, kept) == {
        "reminder:P1D": "skipped",
        "reminder:PT2H": "sent",
        "reminder:PT30M": "sent",
    }


def test_an_offset_removed_and_added_back_is_sent_once_also_after_a_restart(post: Post) -> None:
    salon = post.api.open_salon()
    post.settings(salon, reminders=["P1D", "PT2H"])
    booking = book(post, salon.service_id, local(TUESDAY, 10))
    post.deliver()
    post.settings(salon, reminders=["PT2H"])
    post.deliver()
    assert statuses(post, salon.business_id, booking)["reminder:P1D"] == "skipped"
    post.settings(salon, reminders=["P1D", "PT2H"])
    post.deliver()
    assert statuses(post, salon.business_id, booking) == {
        "reminder:P1D": "planned",
        "reminder:PT2H": "planned",
    }

    post.restart_worker()  # the timers are rows: a new process finds them
    at(post, local(TUESDAY, 10) - timedelta(days=1))
    post.restart_worker()
    at(post, local(TUESDAY, 10) - timedelta(hours=2))
    at(post, local(TUESDAY, 10))
    to_ann = [m for m in post.mailbox.messages if m["To"] == CUSTOMER_EMAIL]
    assert [m["Subject"].split(":")[0] for m in to_ann] == [
        "Booking received",
        "Reminder",
        "Reminder",
    ]
    entries = reminders(post, salon.business_id, booking)
    assert {k: (e["status"], e["attempts"]) for k, e in entries.items()} == {
        "reminder:P1D": ("sent", 0),
        "reminder:PT2H": ("sent", 0),
    }


def test_reminders_turned_on_later_reach_bookings_made_before(post: Post) -> None:
    salon = post.api.open_salon()
    post.settings(salon)  # no reminders yet
    booking = book(post, salon.service_id, TEN)
    post.deliver()
    assert reminders(post, salon.business_id, booking) == {}
    path = f"/v1/businesses/{salon.business_id}/notifications"
    body = {"notify_email": None, "reminders": ["PT2H"]}
    post.api.command("PUT", path, OWNER, "owner", body, 200)
    at(post, TEN - timedelta(hours=2))
    assert statuses(post, salon.business_id, booking) == {"reminder:PT2H": "sent"}
    assert sent_reminders(post) == 1
