"""The business's address: set on its profile, shown in reads, emails (en, de) and calendars."""

from __future__ import annotations

from urllib.parse import urlsplit

import icalendar
import ics

from tests.e2e.conftest import ANN, MONDAY, OWNER, assert_problem, local
from tests.notify.conftest import BUSINESS_EMAIL, CUSTOMER_EMAIL, Post
from tests.notify.mailbox import calendar_part, text_part

ADDRESS = "Hof & Garten\nHafenstraße 12\n20359 Hamburg"
ONE_LINE = "Salon, Hof & Garten, Hafenstraße 12, 20359 Hamburg"


def book(post: Post, service_id: str, hour: int, locale: str) -> str:
    contact = {"name": "Ann", "email": CUSTOMER_EMAIL, "locale": locale}
    body = {"service_id": service_id, "start": local(MONDAY, hour).isoformat(), "contact": contact}
    answer = post.api.command("POST", "/v1/bookings", ANN, "customer", body, 201).json()
    return str(answer["id"])


def test_emails_and_calendars_show_the_business_address(post: Post) -> None:
    salon = post.api.open_salon()
    path = f"/v1/businesses/{salon.business_id}"
    changed = post.api.command("PATCH", path, OWNER, "owner", {"address": ADDRESS}, 200).json()
    assert changed["address"] == ADDRESS and changed["name"] == "Salon"
    post.settings(salon)
    english = book(post, salon.service_id, 10, "en")
    book(post, salon.service_id, 12, "de")
    post.deliver()
    to_ann = [m for m in post.mailbox.wait_for(4) if m["To"] == CUSTOMER_EMAIL]
    assert len(to_ann) == 2
    for mail in to_ann:
        text = text_part(mail).replace("\r\n", "\n")
        assert "  Salon\n  Hof & Garten\n  Hafenstraße 12\n  20359 Hamburg\n" in text
        html = mail.get_body(("html",))
        assert html is not None and "Hof &amp; Garten" in str(html.get_content())
        [event] = icalendar.Calendar.from_ical(calendar_part(mail)).walk("VEVENT")
        assert str(event["LOCATION"]) == ONE_LINE
    assert "Buchung" in to_ann[1]["Subject"]
    to_desk = [m for m in post.mailbox.messages if m["To"] == BUSINESS_EMAIL]
    assert all("20359 Hamburg" in text_part(m) for m in to_desk)

    # The feed and one booking's calendar carry it too (both parsers read it)
    feed_url = post.api.command("POST", f"{path}/calendar-feed", OWNER, "owner", None, 201)
    feed = post.api.query(urlsplit(feed_url.json()["url"]).path).content
    events = icalendar.Calendar.from_ical(feed).walk("VEVENT")
    assert [str(e["LOCATION"]) for e in events] == [ONE_LINE, ONE_LINE]
    assert {e.location for e in ics.Calendar(feed.decode()).events} == {ONE_LINE}
    mine = post.api.query(f"/v1/bookings/{english}.ics", ANN, "customer").content
    [event] = icalendar.Calendar.from_ical(mine).walk("VEVENT")
    assert str(event["LOCATION"]) == ONE_LINE


def test_the_address_is_part_of_the_profile_and_can_be_removed(post: Post) -> None:
    body = {"name": "Studio", "slug": "studio", "timezone": "Europe/Berlin", "address": ADDRESS}
    made = post.api.command("POST", "/v1/businesses", OWNER, "owner", body, 201).json()
    path = f"/v1/businesses/{made['id']}"
    shown = post.api.query(path, consistency=made["consistency_token"]).json()
    assert shown["address"] == ADDRESS
    removed = post.api.command("PATCH", path, OWNER, "owner", {"address": ""}, 200).json()
    assert removed["address"] is None
    shown = post.api.query(path, consistency=removed["consistency_token"]).json()
    assert shown["address"] is None
    listed = post.api.query("/v1/me/businesses", OWNER, "owner").json()["items"]
    assert [b["address"] for b in listed] == [None]


def test_an_unusable_address_is_a_422_naming_it(post: Post) -> None:
    salon = post.api.open_salon()
    path = f"/v1/businesses/{salon.business_id}"
    for bad in ("x" * 301, "Hafenstraße\x0012", "\u200b\u200b"):
        answer = post.api.command("PATCH", path, OWNER, "owner", {"address": bad})
        problem = assert_problem(answer, 422)
        assert "address" in str(problem), problem
