"""The owner's dashboard in a real browser: sign in, today's bookings, actions, live, charts."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    OWNER,
    TODAY,
    WEEKDAYS,
    HeldSettings,
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


def wait_for_chart(page: Page, chart: str, series: str, values: list[float]) -> None:
    """The chart shows `values` (it may be drawn again as live events arrive)."""
    deadline = time.monotonic() + 30
    while (shown := chart_values(page, chart, series)) != values:
        assert time.monotonic() < deadline, f"{chart} {series}: {shown} != {values}"
        time.sleep(0.1)


def per_resource(stats: dict[str, Any]) -> dict[str, list[Any]]:
    """The stats API's per-resource figures summed over the periods, as the charts show them."""
    totals: dict[str, dict[str, Any]] = {}
    for period in stats["periods"]:
        for r in period["resources"]:
            total = totals.setdefault(r["resource_id"], {"name": r["name"]})
            for name in ("bookings", "cancellations", "booked_minutes", "open_minutes"):
                total[name] = total.get(name, 0) + r[name]
    rows = list(totals.values())
    return {
        "names": [r["name"] for r in rows],
        "bookings": [float(r["bookings"]) for r in rows],
        "cancellations": [float(r["cancellations"]) for r in rows],
        "utilisation": [
            r["booked_minutes"] / r["open_minutes"] if r["open_minutes"] else 0.0 for r in rows
        ],
    }


def resource(
    stack: Stack, business_id: str, name: str, kind: str, category: str, hours: Any = None
) -> str:
    body: dict[str, Any] = {"name": name, "kind": kind, "category": category}
    if hours:
        body["weekly"] = [{"day": d, "start": hours[0], "end": hours[1]} for d in WEEKDAYS]
    path = f"/v1/businesses/{business_id}/resources"
    return str(stack.command("POST", path, OWNER, "owner", body)["id"])


def service(stack: Stack, business_id: str, name: str, needs: dict[str, Any]) -> str:
    body = {"name": name, "duration_minutes": 60, "price": {"amount": "25.00", "currency": "EUR"}}
    path = f"/v1/businesses/{business_id}/services"
    return str(stack.command("POST", path, OWNER, "owner", {**body, **needs})["id"])


def test_owner_signs_in_acts_and_sees_bookings_arrive_live(stack: Stack, browser: Browser) -> None:
    business_id, service_id = stack.open_salon()
    first = stack.book(service_id, local(TODAY, 10), name="Ann Berger")
    stack.book(service_id, local(TODAY, 13), sub="bob", name="Bob Lund")
    gone = stack.book(service_id, local(TODAY, 15), sub="dan", name="Dan Ek")
    stack.command("POST", f"/v1/bookings/{gone['id']}/cancel", "dan", "customer", {"reason": "ill"})
    stack.settle()

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

    # A booking made elsewhere appears without a reload. How fast (the issue asks for 2 s)
    # is bench/dashboard.py's figure: a bound here would fail on a loaded machine.
    made = stack.book(service_id, local(TODAY, 16), sub="eve", name="Eve Holm")
    expect(page.locator(f"li[data-id='{made['id']}']")).to_be_visible()
    expect(cards).to_have_count(4)

    # The charts show what the stats API says, for the same range.
    stats_path = f"/v1/businesses/{business_id}/stats"
    params = {
        "from": page.locator("#from").input_value(),
        "to": page.locator("#to").input_value(),
        "group": "week",
        "by": "service",
    }
    deadline = time.monotonic() + 30
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


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_token_sent_while_the_page_loads_signs_in_and_stays_out_of_the_address(
    stack: Stack, browser: Browser
) -> None:
    stack.open_salon()
    page = frozen_page(browser)
    settings = HeldSettings(page)
    page.goto(f"{stack.read_url}/dashboard/")
    settings.wait()
    page.get_by_label("Owner token").fill(stack.token(OWNER, "owner"))
    page.keyboard.press("Enter")
    settings.release()
    expect(page.locator("#app")).to_be_visible()
    assert page.url == f"{stack.read_url}/dashboard/"
    page.context.close()


def test_lanes_per_resource_by_day_and_week_and_charts_per_resource_by_keyboard(
    stack: Stack, browser: Browser
) -> None:
    business_id, haircut = stack.open_salon()
    joe = resource(stack, business_id, "Joe", "staff", "barber", hours=("12:00", "20:00"))
    kim = resource(stack, business_id, "Kim", "staff", "barber")
    room = resource(stack, business_id, "Back room", "room", "room")
    off = {"start": local(TODAY, 9).isoformat(), "end": local(TODAY, 12).isoformat()}
    stack.command(
        "POST", f"/v1/resources/{kim}/time-off", OWNER, "owner", {**off, "reason": "dentist"}
    )
    fade = service(stack, business_id, "Fade", {"requires": {"category": "barber"}})
    shave = service(
        stack, business_id, "Shave", {"requires": {"category": "barber"}, "also_requires": ["room"]}
    )
    joes = stack.book(fade, local(TODAY, 13), name="Ann Berger", resource_id=joe)
    stack.book(fade, local(TODAY, 14), sub="bob", name="Bob Lund", resource_id=kim)
    both = stack.book(shave, local(TODAY, 15), sub="cara", name="Cara Moe")
    stack.book(haircut, local(TODAY, 10), sub="dan", name="Dan Ek")
    stack.settle()

    page = frozen_page(browser, viewport={"width": 1280, "height": 900})
    page.goto(f"{stack.read_url}/dashboard/")
    page.get_by_label("Owner token").fill(stack.token(OWNER, "owner"))
    page.keyboard.press("Enter")

    # A lane per resource, by name, with its hours and time off today; then "No resource".
    lanes = page.locator("#bookings section.lane")
    expect(lanes.locator("h3")).to_have_text(["Back room", "Joe", "Kim", "No resource"])
    lane = {
        name: page.locator(f"section.lane[data-resource='{rid}']")
        for name, rid in (("joe", joe), ("kim", kim), ("room", room), ("none", "none"))
    }
    expect(lane["joe"].locator(".hours")).to_have_text(["12:00\u201317:00"])
    expect(lane["kim"].locator(".hours")).to_have_text(
        ["12:00\u201317:00", "Time off 09:00\u201312:00 (dentist)"]
    )
    expect(lane["none"]).to_contain_text("10:00\u201311:00 Haircut")
    expect(lane["room"].locator(f"li[data-id='{both['id']}']")).to_contain_text("also ")
    # The shave holds a barber and the room: it is in both lanes.
    expect(page.locator(f"li[data-id='{both['id']}']")).to_have_count(2)
    assert serious_violations(page) == []
    screenshot(page, "dashboard-lanes-day.png", full_page=True)

    # By keyboard alone: Tab to the cancel button of Joe's booking, Enter.
    cancel = lane["joe"].locator(f"li[data-id='{joes['id']}'] button[data-action='cancel']")
    for _ in range(80):
        page.keyboard.press("Tab")
        if cancel.evaluate("b => b === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached Joe's Cancel button")
    page.keyboard.press("Enter")
    expect(lane["joe"].locator(f"li[data-id='{joes['id']}']")).to_have_attribute(
        "data-status", "cancelled"
    )

    # The week: a row per resource, a column per day; Kim's Monday off, Saturdays not worked.
    page.get_by_role("button", name="Week").focus()
    page.keyboard.press("Enter")
    rows = page.locator(".lanes-table tbody tr")
    expect(rows.locator("th")).to_contain_text(["Back room", "Joe", "Kim", "No resource"])
    kim_row = page.locator(f".lanes-table tr[data-resource='{kim}']")
    expect(kim_row.locator("td[data-date='2027-03-01']")).to_contain_text("Time off 09:00")
    expect(kim_row.locator("td[data-date='2027-03-02'] .hours")).to_have_text(["09:00\u201317:00"])
    expect(kim_row.locator("td[data-date='2027-03-06'] .hours")).to_have_text(["Not working"])
    screenshot(page, "dashboard-lanes-week.png")

    # Charts per resource, chosen by keyboard, show what the stats API says.
    page.locator("#per").focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#per")).to_have_value("resource")
    expect(page.locator("#chart-resources")).to_be_visible()
    params = {
        "from": page.locator("#from").input_value(),
        "to": page.locator("#to").input_value(),
        "group": "week",
        "by": "resource",
    }
    stats_path = f"/v1/businesses/{business_id}/stats"
    deadline = time.monotonic() + 30
    while True:  # until the stats count Joe's cancelled cut (the stats projector may lag)
        expected = per_resource(stack.query(stats_path, OWNER, "owner", **params))
        if expected["cancellations"] == [0.0, 1.0, 0.0]:
            break
        assert time.monotonic() < deadline, expected
        time.sleep(0.1)
    assert expected["names"] == ["Back room", "Joe", "Kim"]
    # The shave holds the room and whichever barber "any" chose.
    assert expected["bookings"] in ([1.0, 2.0, 1.0], [1.0, 1.0, 2.0])
    for series in ("bookings", "cancellations"):
        wait_for_chart(page, "chart-resources", series, expected[series])
    wait_for_chart(page, "chart-resource-utilization", "utilisation", expected["utilisation"])
    assert serious_violations(page) == []  # the week's table and the charts per resource
    page.context.close()
