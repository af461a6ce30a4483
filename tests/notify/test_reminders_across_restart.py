"""Reminders are rows, so a worker that was down sends the ones still useful and skips the rest."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from tests.e2e.conftest import ANN, MONDAY, TUESDAY, local
from tests.notify.conftest import CUSTOMER_EMAIL, Post

MONDAY_TEN, TUESDAY_TEN = local(MONDAY, 10), local(TUESDAY, 10)


def book(post: Post, service_id: str, start_iso: str) -> str:
    contact = {"name": "Ann", "email": CUSTOMER_EMAIL, "locale": "en"}
    body = {"service_id": service_id, "start": start_iso, "contact": contact}
    answer = post.api.command("POST", "/v1/bookings", ANN, "customer", body, 201).json()
    return str(answer["id"])


def reminders_to_ann(post: Post) -> list[str]:
    return [
        m["Subject"]
        for m in post.mailbox.messages
        if m["To"] == CUSTOMER_EMAIL and m["Subject"].startswith("Reminder")
    ]


def test_a_restarted_worker_sends_reminders_late_by_less_than_their_offset_and_skips_the_rest(
    post: Post, caplog: pytest.LogCaptureFixture
) -> None:
    # Given two bookings, Monday and Tuesday at ten, with reminders a day and two hours before
    salon = post.api.open_salon()
    post.settings(salon, reminders=["P1D", "PT2H"])
    monday = book(post, salon.service_id, MONDAY_TEN.isoformat())
    tuesday = book(post, salon.service_id, TUESDAY_TEN.isoformat())
    post.deliver()
    assert len(post.mailbox.wait_for(4)) == 4  # the two bookings, to Ann and to the desk

    # When the worker is down from Sunday 09:00 (before every reminder) to Monday 10:30
    post.clock.now = MONDAY_TEN - timedelta(days=1, hours=1)
    post.deliver()
    assert reminders_to_ann(post) == []
    post.clock.now = MONDAY_TEN + timedelta(minutes=30)
    post.restart_worker()
    with caplog.at_level(logging.INFO, logger="infra.notify.runner"):
        post.deliver()

    # Then Tuesday's day-before reminder (due Monday 10:00, 30 min late) goes out on restart,
    # and Monday's two (late by their whole offset: the appointment has begun) are skipped
    assert len(post.mailbox.wait_for(5)) == 5
    assert len(reminders_to_ann(post)) == 1
    entries = post.log(salon.business_id)
    log = {(e["kind"], e["status"]): e for e in entries if e["kind"] != "placed"}
    statuses = sorted((kind, status) for kind, status in log)
    assert statuses == [
        ("reminder:P1D", "sent"),  # Tuesday's
        ("reminder:P1D", "skipped"),  # Monday's
        ("reminder:PT2H", "planned"),  # Tuesday's, due Tuesday 08:00
        ("reminder:PT2H", "skipped"),  # Monday's
    ]
    assert "too late" in log[("reminder:PT2H", "skipped")]["error"]
    too_late = [r.getMessage() for r in caplog.records if "too late" in r.getMessage()]
    assert len(too_late) == 2 and all(monday in line for line in too_late)
    assert not any(tuesday in line for line in too_late)

    # And Tuesday's two-hour reminder, 90 minutes late after a second outage, is still sent
    post.clock.now = TUESDAY_TEN - timedelta(minutes=30)
    post.restart_worker()
    post.deliver()
    assert len(post.mailbox.wait_for(6)) == 6
    assert len(reminders_to_ann(post)) == 2
