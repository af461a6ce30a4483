"""Calendar feeds (two parsers), the SMS adapter against a local fake, reminders across DST."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import ics
import pytest

from commands.processes.notify.ports import Transient
from domain.notify import reminder_moment
from infra.notify.sms import TwilioTexter
from tests.e2e.conftest import ANN, OWNER
from tests.notify.conftest import Post
from tests.notify.test_emails import TEN, book


def test_calendar_feed_parses_with_two_parsers_and_rotation_ends_the_old_url(post: Post) -> None:
    salon = post.api.open_salon()
    booking_id = book(post, salon.service_id)
    post.api.settle()
    path = f"/v1/businesses/{salon.business_id}/calendar-feed"
    old = post.api.command("POST", path, OWNER, "owner", None, 201).json()["url"]
    feed = post.api.query(urlsplit(old).path).content
    [event] = icalendar.Calendar.from_ical(feed).walk("VEVENT")
    assert str(event["UID"]) == booking_id and event.decoded("DTSTART") == TEN
    assert icalendar.Calendar.from_ical(feed).walk("VTIMEZONE")
    [other] = ics.Calendar(feed.decode()).events
    assert other.uid == booking_id and other.begin.datetime == TEN
    new = post.api.command("POST", path, OWNER, "owner", None, 201).json()["url"]
    assert new != old
    post.api.query(urlsplit(old).path, expect=404)
    post.api.query(urlsplit(new).path, expect=200)
    mine = post.api.query(f"/v1/bookings/{booking_id}.ics", ANN, "customer").content
    assert icalendar.Calendar.from_ical(mine)["METHOD"] == "REQUEST"
    post.api.query(f"/v1/bookings/{booking_id}.ics", "bob", "customer", expect=404)


class FakeSmsApi(ThreadingHTTPServer):
    """A Twilio-compatible Messages API that records what it received."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SmsHandler)
        self.received: list[dict[str, Any]] = []
        self.fail_next = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/2010-04-01"


class SmsHandler(BaseHTTPRequestHandler):
    server: FakeSmsApi

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        if self.server.fail_next > 0:
            self.server.fail_next -= 1
            self.send_response(503)
            self.end_headers()
            return
        form = {k: v[0] for k, v in parse_qs(body).items()}
        self.server.received.append(
            {"path": self.path, "auth": self.headers["Authorization"], **form}
        )
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"sid": "SM1"}')

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def sms_api() -> Iterator[FakeSmsApi]:
    server = FakeSmsApi()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_sms_goes_form_encoded_with_basic_auth_and_a_503_is_transient(
    sms_api: FakeSmsApi,
) -> None:
    texter = TwilioTexter(sms_api.base, "AC123", "secret", "+4930000000")
    marks: list[bool] = []
    sms_api.fail_next = 1
    with pytest.raises(Transient):
        texter.send("+4915112345678", "Erinnerung", lambda: marks.append(True))
    texter.send("+4915112345678", "Erinnerung", lambda: marks.append(True))
    [got] = sms_api.received
    assert got["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    assert got["auth"] == "Basic QUMxMjM6c2VjcmV0"  # AC123:secret
    assert (got["To"], got["From"], got["Body"]) == ("+4915112345678", "+4930000000", "Erinnerung")
    assert marks == [True, True]


def test_a_day_before_counts_on_the_wall_clock_across_dst() -> None:
    new_york = ZoneInfo("America/New_York")
    # Clocks go forward on 2026-03-08: 10:00 EDT then, 10:00 EST the day before, 23 h earlier.
    start = datetime(2026, 3, 8, 10, tzinfo=new_york).astimezone(UTC)
    due = reminder_moment(start, "P1D", new_york)
    assert due == datetime(2026, 3, 7, 10, tzinfo=new_york)
    assert start - due == timedelta(hours=23)
    assert start - reminder_moment(start, "PT2H", new_york) == timedelta(hours=2)
