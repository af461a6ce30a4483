"""The booking widget in a real browser, embedded by widget.js on another site at 320 px."""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Browser, FrameLocator, Page, expect

from tests.browser.conftest import (
    ANN,
    CARA,
    OWNER,
    TODAY,
    HeldSettings,
    Stack,
    frozen_page,
    local,
    screenshot,
    serious_violations,
)

pytestmark = pytest.mark.slow


def shop_page(stack: Stack, browser: Browser, service_id: str, token: str) -> Page:
    """A visitor in New York at 320 px width on a shop that embeds the widget."""
    page = frozen_page(
        browser, viewport={"width": 320, "height": 900}, timezone_id="America/New_York"
    )
    html = (
        "<!doctype html><html lang=en><head><meta name=viewport content='width=device-width'>"
        "<title>Shop</title></head><body><main><h1>Our shop</h1>"
        f"<script src='{stack.read_url}/widget/widget.js' data-service='{service_id}' "
        f"data-token='{token}'></script></main></body></html>"
    )

    class Shop(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(html.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page.context.on("close", lambda _: server.shutdown())
    # Another origin: localhost, while the APIs are on 127.0.0.1.
    page.goto(f"http://localhost:{server.server_address[1]}/")
    return page


def my_bookings(stack: Stack, sub: str, at_least: int) -> list[dict[str, Any]]:
    """The customer's bookings once the read side shows at least that many and caught up.

    Caught up with the whole log, so a duplicate written meanwhile would be in the list too.
    """
    deadline = time.monotonic() + 30
    while True:
        items: list[dict[str, Any]] = stack.query("/v1/me/bookings", sub, "customer")["items"]
        if len(items) >= at_least and stack.caught_up():
            again: list[dict[str, Any]] = stack.query("/v1/me/bookings", sub, "customer")["items"]
            return again
        assert time.monotonic() < deadline, f"{sub} has {len(items)} bookings, not {at_least}"
        time.sleep(0.05)


def test_widget_books_by_keyboard_once_per_double_click_and_refuses_a_taken_slot(
    stack: Stack, browser: Browser
) -> None:
    business_id, service_id = stack.open_salon()
    page = shop_page(stack, browser, service_id, stack.token(CARA, "customer"))
    widget: FrameLocator = page.frame_locator("iframe")
    expect(widget.get_by_role("heading", name="Book Haircut at Studio Nord")).to_be_visible()
    # 09:00 Berlin is 03:00 in New York: the visitor's time first, the business's beside.
    first_slot = widget.locator("input[name=slot]").first
    expect(first_slot).to_have_value("2027-03-01T09:00:00+01:00")
    expect(widget.locator(".slot label").first).to_have_text("03:00Mon 09:00 there")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320

    # Keyboard alone: Tab into the slots, arrow to the next one, Tab to the fields, Enter.
    page.keyboard.press("Tab")
    expect(first_slot).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(widget.locator("input[name=slot]").nth(1)).to_be_checked()
    page.keyboard.press("Tab")  # "Earlier days" is disabled on the first days
    expect(widget.get_by_role("button", name="Later days")).to_be_focused()
    page.keyboard.press("Tab")
    expect(widget.get_by_label("Name")).to_be_focused()
    page.keyboard.type("Cara Diaz")
    page.keyboard.press("Tab")
    expect(widget.get_by_label("Email")).to_be_focused()
    page.keyboard.type("cara@example.com")
    page.keyboard.press("Enter")
    outcome = widget.locator("#outcome")
    expect(outcome).to_contain_text("Booked: Haircut on Monday 1 March")
    expect(outcome).to_be_focused()
    booked = my_bookings(stack, CARA, 1)
    assert [(datetime.fromisoformat(b["start"]), b["contact"]["name"]) for b in booked] == [
        (local(TODAY, 10), "Cara Diaz")
    ]
    screenshot(page, "widget-booked.png", full_page=True)

    # A double click books once. The list reloads after a booking: wait for it to drop the
    # booked time, so the next click is on the list the visitor sees.
    expect(widget.locator("input[value='2027-03-01T10:00:00+01:00']")).to_have_count(0)
    first_id = booked[0]["id"]
    second_start = widget.locator("#slot-2").input_value()
    widget.locator("label[for=slot-2]").click()
    expect(widget.locator("#slot-2")).to_be_checked()
    widget.get_by_role("button", name="Book", exact=True).dblclick()
    expect(outcome).not_to_contain_text(first_id)
    expect(outcome).to_contain_text("Booked:")
    assert len(my_bookings(stack, CARA, 2)) == 2
    expect(widget.locator(f"input[value='{second_start}']")).to_have_count(0)

    # A slot someone else takes meanwhile is refused with a sentence, and the list refreshes.
    taken = widget.locator("input[name=slot]").nth(3)
    start = taken.input_value()
    widget.locator("label[for=slot-3]").click()
    expect(taken).to_be_checked()
    stack.book(service_id, datetime.fromisoformat(start), sub=ANN)
    widget.get_by_role("button", name="Book", exact=True).click()
    expect(outcome).to_have_class("error")
    expect(outcome).to_have_text(re.compile(r"^[A-Z][^{}]*\.$"))
    expect(widget.locator(f"input[value='{start}']")).to_have_count(0)
    assert len(my_bookings(stack, CARA, 2)) == 2
    screenshot(page, "widget-taken.png", full_page=True)

    frame = next(f for f in page.frames if f.url.startswith(f"{stack.read_url}/widget/"))
    assert serious_violations(frame) == []
    owner_view = stack.query(f"/v1/businesses/{business_id}/bookings", OWNER, "owner")
    assert len(owner_view["items"]) == 3
    page.context.close()


def test_widget_without_a_token_says_why_it_cannot_book(stack: Stack, browser: Browser) -> None:
    _, service_id = stack.open_salon()
    page = frozen_page(browser, viewport={"width": 320, "height": 800})
    page.goto(f"{stack.read_url}/widget/?service={service_id}")
    page.locator("label[for=slot-0]").click()
    page.get_by_label("Name").fill("Cara")
    page.get_by_label("Email").fill("cara@example.com")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.locator("#outcome")).to_contain_text("did not give the widget a customer token")
    assert serious_violations(page) == []
    page.context.close()


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_enter_pressed_while_the_widget_loads_keeps_name_and_email_out_of_the_address(
    stack: Stack, browser: Browser
) -> None:
    _, service_id = stack.open_salon()
    address = f"{stack.read_url}/widget/?service={service_id}"
    page = frozen_page(browser, viewport={"width": 320, "height": 800})
    settings = HeldSettings(page)
    page.goto(address)
    settings.wait()
    page.get_by_label("Name").fill("Cara")
    page.get_by_label("Email").fill("cara@example.com")
    page.keyboard.press("Enter")
    settings.release()
    expect(page.locator("label[for=slot-0]")).to_be_visible()
    assert page.url == address
    assert page.get_by_label("Email").input_value() == "cara@example.com"
    page.context.close()


# Holds every availability answer after the first until the test calls window.release().
HELD_RELOAD = """
const realFetch = window.fetch;
let reads = 0;
let release;
const released = new Promise((resolve) => { release = resolve; });
window.release = () => release();
window.fetch = async (...args) => {
  const response = await realFetch(...args);
  if (String(args[0]).includes("/availability") && ++reads > 1) await released;
  return response;
};
"""


def test_a_time_chosen_while_the_list_reloads_stays_chosen(stack: Stack, browser: Browser) -> None:
    _, service_id = stack.open_salon()
    page = frozen_page(browser, viewport={"width": 320, "height": 800})
    page.add_init_script(HELD_RELOAD)
    page.goto(f"{stack.read_url}/widget/?service={service_id}")
    token = stack.token(CARA, "customer")
    page.evaluate(f"window.postMessage({{type: 'slotwise-token', token: '{token}'}}, '*')")
    booked = page.locator("#slot-0").input_value()
    page.locator("label[for=slot-0]").click()
    page.get_by_label("Name").fill("Cara")
    page.get_by_label("Email").fill("cara@example.com")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.locator("#outcome")).to_contain_text("Booked:")

    # The list reloads after the booking; the visitor picks the next time before it is back.
    wanted = page.locator("#slot-3").input_value()
    page.locator("label[for=slot-3]").click()
    page.evaluate("window.release()")
    expect(page.locator(f"input[value='{booked}']")).to_have_count(0)
    expect(page.locator(f"input[value='{wanted}']")).to_be_checked()
    page.context.close()
