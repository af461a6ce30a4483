"""A waitlist offer is emailed to the customer it is held for, in their language, once."""

from __future__ import annotations

from email.message import EmailMessage

from infra.waitlist.service import WaitlistWorker
from tests.e2e.conftest import ANN, MONDAY, local
from tests.notify.conftest import CUSTOMER_EMAIL, Post
from tests.notify.mailbox import text_part

TEN = local(MONDAY, 10)
BOB_EMAIL = "bob@example.com"


def offer_made(post: Post) -> None:
    """The waitlist process manager's turn (the test steps it, as it steps the notifier)."""
    post.api.settle()
    worker = WaitlistWorker(post.container.waitlist, post.container.app)
    while worker.step():
        pass


def test_the_first_in_line_gets_the_offer_by_email_without_a_calendar_entry(post: Post) -> None:
    salon = post.api.open_salon()
    post.settings(salon)
    contact = {"name": "Ann", "email": CUSTOMER_EMAIL}
    anns = post.api.command(
        "POST",
        "/v1/bookings",
        ANN,
        "customer",
        {"service_id": salon.service_id, "start": TEN.isoformat(), "contact": contact},
        201,
    ).json()
    path = f"/v1/services/{salon.service_id}/waitlist"
    body = {
        "start": TEN.isoformat(),
        "contact": {"name": "Bob", "email": BOB_EMAIL, "locale": "de"},
    }
    entry = post.api.command("POST", path, "bob", "customer", body, 201).json()
    post.api.act(anns["id"], "cancel", ANN, "customer", {"reason": "ill"})
    offer_made(post)
    post.deliver()
    mails = post.mailbox.wait_for(5)  # Ann: placed, cancelled; the desk: both; Bob: the offer
    to_bob: list[EmailMessage] = [m for m in mails if m["To"] == BOB_EMAIL]
    assert len(to_bob) == 1 and len(mails) == 5
    [offer] = to_bob
    assert offer["Subject"].startswith("Ein Platz ist für Sie frei: Cut (EUR) am 08.03.2027, 10:00")
    text = text_part(offer)
    assert "Guten Tag Bob" in text and f"/v1/waitlist/{entry['id']}/accept" in text
    assert "bis 01.03.2027, 13:15 CET" in text  # held until the frozen clock + 15 minutes
    assert all(p.get_content_type() != "text/calendar" for p in offer.walk())
    offer_made(post)
    post.deliver()  # nothing more: each message once
    assert len(post.mailbox.messages) == 5
