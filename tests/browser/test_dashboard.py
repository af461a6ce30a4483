"""The owner's dashboard in a real browser: sign in, today's bookings, actions, live, charts."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    OWNER,
    TODAY,
    Stack,
    frozen_page,
    local,
    screenshot,
    serious_violations,
)

pytestmark = pytest.mark.slow


def chart_values(page: Page, chart: str, series: str) -> list[float]:
    rects = page.locator(f"#{chart} rect[data-series='{series}']")
    return [float(v) for v in rects.evaluate_all("rs => rs.map(r => r.dataset.value)")]


def stats_as_charts(stats: dict[str, Any]) -> dict[tuple[str, str], list[float]]:
    periods = stats["periods"]
    revenue = [
        sum(float(m["amount"]) for m in p["revenue"] if m["currency"] == "EUR") for p in periods
    ]
    return {
        ("chart-counts", "bookings"): [p["bookings"] for p in periods],
        ("chart-counts", "cancellations"): [p["cancellations"] for p in periods],
        ("chart-counts", "no-shows"): [p["no_shows"] for p in periods],
        ("chart-utilization", "utilisation"): [p["utilization"] for p in periods],
        ("chart-revenue-EUR", "EUR"): revenue,
    }


def test_owner_signs_in_acts_and_sees_bookings_arrive_live(stack: Stack, browser: Browser) -> None:
    business_id, service_id = stack.open_salon()
    first = stack.book(service_id, local(TODAY, 10), name="Ann Berger")
    stack.book(service_id, local(TODAY, 13), sub="bob", name="Bob Lund")
    gone = stack.book(service_id, local(TODAY, 15), sub="dan", name="Dan Ek")
    stack.command("POST", f"/v1/bookings/{gone['id']}/cancel", "dan", "customer", {"reason": "ill"})

    page = frozen_page(browser, viewport={"width": 1280, "height": 900})
    page.goto(f"{stack.read_url}/dashboard/")
    page.get_by_label("Owner token").fill(stack.token(OWNER, "owner"))
    page.get_by_role("button", name="Sign in").click()

    # Today's bookings, with their status colours.
    cards = page.locator("#bookings li.booking")
    expect(cards).to_have_count(3)
    expect(page.locator("#range")).to_contain_text("Monday 1 March")
    expect(cards.nth(0)).to_contain_text("10:00\u201311:00 Haircut")
    expect(cards.nth(0)).to_contain_text("Ann Berger")
    expect(cards.nth(2)).to_have_class("booking s-cancelled")
    expect(page.locator("#live")).to_have_text("Live")

    # An action through the write API; the page reads it back with the consistency token.
    card = page.locator(f"li[data-id='{first['id']}']")
    card.get_by_role("button", name="Check in").click()
    expect(card).to_have_attribute("data-status", "checked_in")
    expect(page.locator("#message")).to_contain_text("Check in: done")

    # A refused action shows the problem's detail as a sentence.
    second = cards.nth(1)
    second.get_by_role("button", name="No-show").click()
    expect(page.locator("#message")).to_have_text(
        "Cannot mark a no-show before the appointment starts."
    )

    # A booking made elsewhere appears within 2 s, without a reload.
    made = stack.book(service_id, local(TODAY, 16), sub="eve", name="Eve Holm")
    expect(page.locator(f"li[data-id='{made['id']}']")).to_be_visible(timeout=2000)
    expect(cards).to_have_count(4)

    # The charts show what the stats API says, for the same range.
    stats_path = f"/v1/businesses/{business_id}/stats"
    params = {
        "from": page.locator("#from").input_value(),
        "to": page.locator("#to").input_value(),
        "group": "week",
        "by": "service",
    }
    deadline = time.monotonic() + 10
    while True:
        stats = stack.query(stats_path, OWNER, "owner", **params)
        expected = stats_as_charts(stats)
        shown = {key: chart_values(page, *key) for key in expected}
        if shown == expected and stats["periods"][-1]["bookings"] == 4:
            break
        assert time.monotonic() < deadline, f"charts {shown} != stats {expected}"
        time.sleep(0.1)

    assert serious_violations(page) == []
    screenshot(page, "dashboard-day.png", full_page=True)
    page.get_by_role("button", name="Week").click()
    expect(page.locator(".day-column")).to_have_count(7)
    expect(page.locator(".day-column[data-date='2027-03-01'] li.booking")).to_have_count(4)
    screenshot(page, "dashboard-week.png")
    page.context.close()


def test_a_wrong_token_is_refused_with_a_sentence(stack: Stack, browser: Browser) -> None:
    page = frozen_page(browser)
    page.goto(f"{stack.read_url}/dashboard/")
    page.get_by_label("Owner token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    message = page.locator("#message")
    expect(message).to_be_visible()
    expect(message).to_have_text(__import__("re").compile(r"^[A-Z].*\.$"))
    expect(page.locator("#app")).to_be_hidden()
    page.context.close()
