"""Stats by ISO week and calendar month, and per service, in the business's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from read_api.stats import period_of
from tests.conftest import FrozenClock
from tests.e2e.conftest import BOB, MONDAY, OWNER, TUESDAY, Api, Salon, assert_problem, local


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_periods_start_on_monday_and_on_the_first_of_the_month() -> None:
    sunday = date(2027, 3, 7)
    assert period_of(sunday, "week") == date(2027, 3, 1)
    assert period_of(MONDAY, "week") == MONDAY
    assert period_of(date(2027, 1, 1), "week") == date(2026, 12, 28)  # ISO week 53 of 2026
    assert period_of(date(2027, 2, 28), "month") == date(2027, 2, 1)
    assert period_of(sunday, "day") == sunday


def _busy_fortnight(api: Api, salon: Salon, clock: FrozenClock) -> tuple[str, str]:
    """EUR cuts on Mon 8th (two, one cancelled) and Tue 9th; a USD cut on Mon 15th, a no-show."""
    dollars = api.add_service(salon.business_id, OWNER, price="25.50", currency="USD")["id"]
    api.book(salon.service_id, local(MONDAY, 9), expect=201)
    dropped = api.book(salon.service_id, local(MONDAY, 11), BOB, expect=201).json()["id"]
    api.book(salon.service_id, local(TUESDAY, 9), expect=201)
    absent = api.book(dollars, local(date(2027, 3, 15), 10), BOB, expect=201).json()["id"]
    api.act(dropped, "cancel", BOB, "customer", {"reason": "changed mind"})
    clock.now = datetime(2027, 3, 15, 10, 30, tzinfo=UTC)
    marked = api.act(absent, "no-show", OWNER, "owner")
    assert marked.status_code == 200, marked.text
    return dollars, marked.json()["consistency_token"]


def test_stats_by_week_and_by_service_add_up_to_the_days(
    api: Api, salon: Salon, clock: FrozenClock
) -> None:
    dollars, token = _busy_fortnight(api, salon, clock)
    path = f"/v1/businesses/{salon.business_id}/stats"
    span = {"from": "2027-03-07", "to": "2027-03-16"}  # a Sunday to a Tuesday
    days = api.query(path, OWNER, "owner", consistency=token, params=span).json()
    weeks = api.query(
        path, OWNER, "owner", params={**span, "group": "week", "by": "service"}
    ).json()

    assert weeks["group"] == "week" and weeks["days"] == []
    assert [w["period"] for w in weeks["periods"]] == ["2027-03-01", "2027-03-08", "2027-03-15"]
    first, second, third = weeks["periods"]
    assert (first["bookings"], first["open_minutes"]) == (0, 0)  # the Sunday alone: closed
    assert (second["bookings"], second["cancellations"], second["no_shows"]) == (3, 1, 0)
    assert second["revenue"] == [{"amount": "60.00", "currency": "EUR"}]
    assert second["open_minutes"] == 5 * 480 and second["capacity_minutes"] == 5 * 480
    assert second["booked_minutes"] == 120 and second["utilization"] == 0.05
    assert (third["bookings"], third["no_shows"]) == (1, 1)
    assert third["revenue"] == [{"amount": "0.00", "currency": "USD"}]  # earned, then not
    assert third["open_minutes"] == 2 * 480  # Monday and Tuesday of that week are asked for

    for field in ("bookings", "cancellations", "no_shows", "booked_minutes", "open_minutes"):
        assert sum(w[field] for w in weeks["periods"]) == sum(d[field] for d in days["days"])
    for week in weeks["periods"]:
        by_service = {s["service_id"]: s for s in week["services"]}
        assert set(by_service) == {salon.service_id, dollars}
        for field in ("bookings", "cancellations", "no_shows", "booked_minutes"):
            assert sum(s[field] for s in by_service.values()) == week[field]
    eur = {s["service_id"]: s for s in second["services"]}[salon.service_id]
    assert (eur["bookings"], eur["cancellations"], eur["booked_minutes"]) == (3, 1, 120)
    assert eur["revenue"] == [{"amount": "60.00", "currency": "EUR"}] and eur["name"]
    assert eur["utilization"] == second["utilization"]


def test_stats_by_month_cover_each_calendar_month(
    api: Api, salon: Salon, clock: FrozenClock
) -> None:
    _, token = _busy_fortnight(api, salon, clock)
    params = {"from": "2027-02-20", "to": "2027-03-31", "group": "month"}
    months = api.query(
        f"/v1/businesses/{salon.business_id}/stats", OWNER, "owner", token, params
    ).json()["periods"]
    assert [m["period"] for m in months] == ["2027-02-01", "2027-03-01"]
    assert (months[0]["bookings"], months[1]["bookings"]) == (0, 4)
    assert months[1]["open_minutes"] == 23 * 480  # March 2027 has 23 weekdays


def test_unknown_groupings_are_refused_by_name(api: Api, salon: Salon) -> None:
    path = f"/v1/businesses/{salon.business_id}/stats"
    span = {"from": MONDAY.isoformat(), "to": TUESDAY.isoformat()}
    for name, value in (("by", "staff"), ("group", "year")):
        answer = api.query(path, OWNER, "owner", params={**span, name: value}, expect=None)
        body = assert_problem(answer, 422)
        assert name in str(body), body
