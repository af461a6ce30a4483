"""Stats by period (day, ISO week, calendar month) and by service or resource.

Per business the daily counters (`queries.daily_stats`) are summed into
periods; per service the same figures are counted from the booking facts the
stats projector keeps. Weeks start on Monday and months on the 1st, both in
the business's time zone (the days are its local days already). Per resource
the facts are joined to the resources each booking holds, and utilization is of
the resource's own open minutes (domain.resources.open_minutes).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Connection, select

from domain.resources import ResourceCalendar
from domain.resources import open_minutes as resource_open_minutes
from domain.slots import Calendar
from projections.tables import (
    booking_resources,
    services,
    stats_booking_facts,
    stats_booking_payments,
)
from read_api.queries import Row, blank_day, occurrence_minutes

Group = Literal["day", "week", "month"]
COUNTS = ("bookings", "cancellations", "no_shows", "booked_minutes")
MONEY = ("revenue", "captured", "refunded")
EARNING = "active"  # a fact earning its price (paid at the venue, neither cancelled nor no-show)


def period_of(day: date, group: Group) -> date:
    """The first day of the period `day` falls in."""
    if group == "week":
        return day - timedelta(days=day.weekday())
    if group == "month":
        return day.replace(day=1)
    return day


def add_money(total: list[dict[str, str]], more: Iterable[dict[str, str]]) -> None:
    """Add amounts per currency into `total` (kept sorted by currency)."""
    for money in more:
        found = next((m for m in total if m["currency"] == money["currency"]), None)
        if found is None:
            total.append({"amount": money["amount"], "currency": money["currency"]})
        else:
            found["amount"] = str(Decimal(found["amount"]) + Decimal(money["amount"]))
    total.sort(key=lambda m: m["currency"])


def add_counts(total: Row, more: Row) -> None:
    for name in COUNTS:
        total[name] += more[name]
    for name in MONEY:
        add_money(total[name], more[name])


def utilization(booked: int, capacity_minutes: int) -> float:
    return round(booked / capacity_minutes, 4) if capacity_minutes else 0.0


def service_day_stats(
    conn: Connection, business_id: str, first: date, last: date
) -> dict[tuple[str, str], Row]:
    """(service id, local day) -> the day's figures for that service's bookings."""
    span = (first.isoformat(), last.isoformat())
    facts, money = stats_booking_facts, stats_booking_payments
    rows = conn.execute(
        select(facts, money.c.captured, money.c.refunded, money.c.currency.label("paid_in"))
        .outerjoin(money, money.c.booking_id == facts.c.booking_id)
        .where((facts.c.business_id == business_id) & facts.c.day.between(*span))
    )
    found: dict[tuple[str, str], Row] = {}
    for row in rows:
        _count_fact(found.setdefault((row.service_id, row.day), blank_day()), row)
    for (service_id, day), minutes in occurrence_minutes(conn, business_id, span).items():
        found.setdefault((service_id, day), blank_day())["booked_minutes"] += minutes
    return found


def _count_fact(figures: Row, row: Any) -> None:
    """Add one booking fact (with its online payment, if any) to `figures`."""
    figures["bookings"] += row.status != "expired"  # an unpaid hold was never a booking
    figures["cancellations"] += row.status == "cancelled"
    figures["no_shows"] += row.status == "no_show"
    if row.status == EARNING:
        add_money(figures["revenue"], [{"amount": row.amount, "currency": row.currency}])
    if row.captured is not None:
        kept = str(Decimal(row.captured) - Decimal(row.refunded))
        add_money(figures["revenue"], [{"amount": kept, "currency": row.paid_in}])
        add_money(figures["captured"], [{"amount": row.captured, "currency": row.paid_in}])
        add_money(figures["refunded"], [{"amount": row.refunded, "currency": row.paid_in}])


def resource_day_stats(
    conn: Connection, business_id: str, first: date, last: date
) -> dict[tuple[str, str], Row]:
    """(resource id, local day) -> the figures of the bookings holding that resource; a
    booking holding a barber and a room counts under both, with its whole duration."""
    span = (first.isoformat(), last.isoformat())
    facts, money, held = stats_booking_facts, stats_booking_payments, booking_resources
    rows = conn.execute(
        select(
            facts,
            held.c.resources,
            money.c.captured,
            money.c.refunded,
            money.c.currency.label("paid_in"),
        )
        .join(held, held.c.booking_id == facts.c.booking_id)
        .outerjoin(money, money.c.booking_id == facts.c.booking_id)
        .where((facts.c.business_id == business_id) & facts.c.day.between(*span))
    )
    found: dict[tuple[str, str], Row] = {}
    for row in rows:
        for resource in row.resources or ():
            figures = found.setdefault((str(resource["id"]), row.day), blank_day())
            _count_fact(figures, row)
            if row.status not in ("cancelled", "expired"):
                figures["booked_minutes"] += row.minutes
    return found


def add_resources(
    report: list[Row],
    group: Group,
    figures: dict[tuple[str, str], Row],
    calendars: list[ResourceCalendar],
    business: Calendar,
    days: list[date],
) -> None:
    """Give each period of `report` its resources: figures, open minutes and utilization."""
    items = {item["period"]: item for item in report}
    for item in report:
        item["resources"] = {r.id: _blank_resource(r) for r in calendars}
    for day in days:
        item = items[period_of(day, group)]
        for r in calendars:
            entry = item["resources"][r.id]
            entry["open_minutes"] += resource_open_minutes(r, business, day)
            add_counts(entry, figures.get((str(r.id), day.isoformat()), blank_day()))
    for item in report:
        listed = sorted(item["resources"].values(), key=lambda r: (r["name"], r["resource_id"]))
        for entry in listed:
            entry["utilization"] = utilization(entry["booked_minutes"], entry["open_minutes"])
        item["resources"] = listed


def _blank_resource(resource: ResourceCalendar) -> Row:
    view = {"resource_id": str(resource.id), "name": resource.name}
    return {**view, "category": resource.category, **blank_day(), "open_minutes": 0}


def service_names(conn: Connection, business_id: str) -> dict[str, str]:
    query = select(services.c.id, services.c.name).where(services.c.business_id == business_id)
    return {row.id: row.name for row in conn.execute(query)}


def periods(
    days: list[date],
    group: Group,
    business_days: dict[str, Row],
    open_minutes: dict[date, int],
    capacity: int,
    by_service: dict[tuple[str, str], Row] | None = None,
    names: dict[str, str] | None = None,
) -> list[Row]:
    """The report: one item per period, each with its services when `by_service` is given."""
    report: dict[date, Row] = {}
    on_day: dict[str, list[tuple[str, Row]]] = {}
    for (service_id, day_text), figures in (by_service or {}).items():
        on_day.setdefault(day_text, []).append((service_id, figures))
    for day in days:
        start = period_of(day, group)
        item = report.get(start)
        if item is None:
            item = report[start] = {"period": start, **blank_day(), "open_minutes": 0}
            if by_service is not None:
                item["services"] = {sid: _blank_service(sid, n) for sid, n in (names or {}).items()}
        add_counts(item, business_days.get(day.isoformat(), blank_day()))
        item["open_minutes"] += open_minutes[day]
        for service_id, figures in on_day.get(day.isoformat(), []):
            service = item["services"].setdefault(service_id, _blank_service(service_id, ""))
            add_counts(service, figures)
    return [_finish(item, capacity, group) for item in report.values()]


def _blank_service(service_id: str, name: str) -> Row:
    return {"service_id": service_id, "name": name, **blank_day()}


def _finish(item: Row, capacity: int, group: Group) -> Row:
    item["capacity_minutes"] = item["open_minutes"] * capacity
    item["utilization"] = utilization(item["booked_minutes"], item["capacity_minutes"])
    if group == "day":
        item["date"] = item["period"]
    if "services" in item:
        listed: list[Any] = sorted(
            item["services"].values(), key=lambda s: (s["name"], s["service_id"])
        )
        for service in listed:
            booked = service["booked_minutes"]
            service["utilization"] = utilization(booked, item["capacity_minutes"])
        item["services"] = listed
    return item
