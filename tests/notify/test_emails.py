"""Emails with calendar invitations, in the customer's language, each sent once."""

from __future__ import annotations

from datetime import timedelta

import icalendar

from tests.e2e.conftest import ANN, MONDAY, OWNER, local
from tests.notify.conftest import BUSINESS_EMAIL, CUSTOMER_EMAIL, Post
from tests.notify.mailbox import calendar_part, text_part

TEN = local(MONDAY, 10)


def book(post: Post, service_id: str, locale: str = "en") -> str:
    contact = {"name": "Ann", "email": CUSTOMER_EMAIL, "locale": locale}
    body = {"service_id": service_id, "start": TEN.isoformat(), "contact": contact}
    answer = post.api.command("POST", "/v1/bookings", ANN, "customer", body, 201).json()
    return str(answer["id"])


def test_a_booking_emails_customer_and_business_with_an_invitation(post: Post) -> None:
    salon = post.api.open_salon()
    post.settings(salon)
    booking_id = book(post, salon.service_id)
    post.deliver()
    mails = post.mailbox.wait_for(2)
    assert sorted(m["To"] for m in mails) == [CUSTOMER_EMAIL, BUSINESS_EMAIL]
    to_ann = next(m for m in mails if m["To"] == CUSTOMER_EMAIL)
    assert "Salon" in to_ann["Subject"] and "10:00 CET" in to_ann["Subject"]
    assert "Hello Ann" in text_part(to_ann)
    cal = icalendar.Calendar.from_ical(calendar_part(to_ann))
    assert cal["METHOD"] == "REQUEST"
    [event] = cal.walk("VEVENT")
    assert str(event["UID"]) == booking_id and int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == TEN
    assert cal.walk("VTIMEZONE")[0]["TZID"] == "Europe/Berlin"
    post.deliver()  # nothing more: each message once
    assert len(post.mailbox.messages) == 2


def test_german_contact_gets_german_email_and_a_cancel_updates_the_same_entry(
    post: Post,
) -> None:
    salon = post.api.open_salon()
    post.settings(salon)
    booking_id = book(post, salon.service_id, locale="de-AT")
    post.deliver()
    post.api.act(booking_id, "cancel", ANN, "customer", {"reason": "ill"})
    post.deliver()
    to_ann = [m for m in post.mailbox.wait_for(4) if m["To"] == CUSTOMER_EMAIL]
    assert [m["Subject"].split(":")[0] for m in to_ann] == [
        "Buchung eingegangen",
        "Buchung storniert",
    ]
    assert "Guten Tag Ann" in text_part(to_ann[1])
    cal = icalendar.Calendar.from_ical(calendar_part(to_ann[1]))
    assert cal["METHOD"] == "CANCEL"
    [event] = cal.walk("VEVENT")
    assert str(event["UID"]) == booking_id and int(event["SEQUENCE"]) == 2
    log = post.log(salon.business_id)
    assert {(e["kind"], e["status"]) for e in log} == {("placed", "sent"), ("cancelled", "sent")}


def test_erased_customer_gets_no_email(post: Post) -> None:
    salon = post.api.open_salon()
    post.settings(salon)
    book(post, salon.service_id)
    post.api.command("DELETE", f"/v1/customers/{ANN}/personal-data", ANN, "customer", None, 200)
    post.deliver()
    assert [m["To"] for m in post.mailbox.wait_for(1)] == [BUSINESS_EMAIL]
    log = post.log(salon.business_id)
    skipped = [e for e in log if e["audience"] == "customer"]
    assert skipped[0]["status"] == "skipped" and "erased" in skipped[0]["error"]


def test_reminders_go_out_at_their_offsets_and_are_dropped_on_cancel(post: Post) -> None:
    salon = post.api.open_salon()
    post.settings(salon, reminders=["P1D", "PT2H"])
    kept = book(post, salon.service_id)
    post.deliver()
    assert len(post.mailbox.wait_for(2)) == 2
    post.clock.now = TEN - timedelta(days=1) - timedelta(seconds=1)
    post.deliver()
    assert len(post.mailbox.messages) == 2  # not yet
    post.clock.now = TEN - timedelta(days=1)
    post.deliver()
    reminders = [m for m in post.mailbox.wait_for(3) if m["Subject"].startswith("Reminder")]
    assert len(reminders) == 1
    post.api.act(kept, "cancel", OWNER, "owner", {"reason": "closed"})
    post.deliver()
    post.clock.now = TEN - timedelta(hours=2)
    post.deliver()
    subjects = [m["Subject"] for m in post.mailbox.wait_for(5)]
    assert sum(s.startswith("Reminder") for s in subjects) == 1
