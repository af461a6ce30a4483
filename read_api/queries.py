"""Queries over the read models: plain functions returning plain rows."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Select, String, and_, bindparam, cast, select

from domain.errors import InvalidInput
from projections.tables import (
    UTCDateTime,
    allocations,
    booking_payments,
    booking_resources,
    bookings,
    business_addresses,
    business_daily_payments,
    business_daily_revenue,
    business_daily_stats,
    businesses,
    services,
    stats_booking_facts,
)
from read_api.raw import compiled, utc_reader

Row = dict[str, Any]


def _one(conn: Connection, query: Any) -> Row | None:
    row = conn.execute(query).first()
    return dict(row._mapping) if row is not None else None


def _all(conn: Connection, query: Any) -> list[Row]:
    return [dict(row._mapping) for row in conn.execute(query)]


def _businesses() -> Select[Any]:
    """Business rows with their address (None when none was given)."""
    joined = businesses.outerjoin(business_addresses, business_addresses.c.id == businesses.c.id)
    return select(businesses, business_addresses.c.address).select_from(joined)


def get_business(conn: Connection, business_id: UUID) -> Row | None:
    return _one(conn, _businesses().where(businesses.c.id == str(business_id)))


def get_business_by_slug(conn: Connection, slug: str) -> Row | None:
    return _one(conn, _businesses().where(businesses.c.slug == slug))


def list_businesses(conn: Connection, limit: int, after: str | None) -> list[Row]:
    """Businesses by id, the first `limit` after the id `after`."""
    query = _businesses().order_by(businesses.c.id).limit(limit)
    if after:
        query = query.where(businesses.c.id > after)
    return _all(conn, query)


def list_owned_businesses(
    conn: Connection, owner_id: str, limit: int, after: str | None
) -> list[Row]:
    """The businesses `owner_id` registered, by id, the first `limit` after the id `after`."""
    query = (
        _businesses()
        .where(businesses.c.owner_id == owner_id)
        .order_by(businesses.c.id)
        .limit(limit)
    )
    if after:
        query = query.where(businesses.c.id > after)
    return _all(conn, query)


def get_service(conn: Connection, service_id: UUID) -> Row | None:
    return _one(conn, select(services).where(services.c.id == str(service_id)))


def list_active_services(conn: Connection, business_id: UUID) -> list[Row]:
    return _all(
        conn,
        select(services)
        .where((services.c.business_id == str(business_id)) & services.c.active)
        .order_by(services.c.name, services.c.id),
    )


def service_seats(conn: Connection, business_id: str) -> dict[UUID, int]:
    """Seats of every service of the business: whether its bookings share occurrences."""
    query = select(services.c.id, services.c.seats).where(services.c.business_id == business_id)
    return {UUID(row.id): row.seats for row in conn.execute(query)}


HELD = select(
    allocations.c.booking_id,
    allocations.c.service_id,
    allocations.c.start,
    allocations.c.end,
    allocations.c.occupied_start,
    allocations.c.occupied_end,
).where(
    and_(
        allocations.c.business_id == bindparam("business_id"),
        allocations.c.occupied_start < bindparam("hi", type_=UTCDateTime()),
        allocations.c.occupied_start > bindparam("since", type_=UTCDateTime()),
        allocations.c.occupied_end > bindparam("lo", type_=UTCDateTime()),
    )
)


def list_held(
    conn: Connection, business_id: str, lo: datetime, hi: datetime, longest: timedelta
) -> list[tuple[str, str, datetime, datetime, datetime, datetime]]:
    """Allocations of the business whose occupied time overlaps [lo, hi): (booking_id,
    service_id, start, end, occupied_start, occupied_end).

    None holds longer than `longest`, so the index on (business_id,
    occupied_start) is read from lo - longest to hi only, however long the
    business's history. The statement is compiled once and its rows read
    without SQLAlchemy's per-row processing: a busy week holds hundreds.
    """
    sql, names = compiled(conn, HELD)
    bound = {"business_id": business_id, "lo": lo, "hi": hi, "since": lo - longest}
    instant = utc_reader(conn)
    params = {k: instant.bind(v) for k, v in bound.items()}
    rows = conn.exec_driver_sql(sql, tuple(params[n] for n in names) if names else params)
    return [
        (str(b), str(s), instant(start), instant(end), instant(o_start), instant(o_end))
        for b, s, start, end, o_start, o_end in rows
    ]


def get_booking(conn: Connection, booking_id: UUID) -> Row | None:
    return _one(conn, select(bookings).where(bookings.c.id == str(booking_id)))


def list_bookings(
    conn: Connection,
    *,
    business_id: UUID | None = None,
    customer_id: str | None = None,
    first: date | None = None,
    last: date | None = None,
    status: str | None = None,
    limit: int = 50,
    after: tuple[datetime, str] | None = None,
    resource_id: UUID | None = None,
    series_id: UUID | None = None,
) -> list[Row]:
    """Bookings by start, then id: the first `limit` after the key `after`."""
    query = select(bookings).order_by(bookings.c.start, bookings.c.id).limit(limit)
    if resource_id is not None or series_id is not None:
        extra = booking_resources.c
        query = query.join(booking_resources, extra.booking_id == bookings.c.id)
        if resource_id is not None:  # a uuid in the JSON list's text: portable, and exact
            query = query.where(cast(extra.resources, String).like(f'%"{resource_id}"%'))
        if series_id is not None:
            query = query.where(extra.series_id == str(series_id))
    if after is not None:
        start, booking_id = after
        query = query.where(
            (bookings.c.start >= start)  # the range the (…, start) indexes read from
            & (
                (bookings.c.start > start)
                | ((bookings.c.start == start) & (bookings.c.id > booking_id))
            )
        )
    if business_id is not None:
        query = query.where(bookings.c.business_id == str(business_id))
    if customer_id is not None:
        query = query.where(bookings.c.customer_id == customer_id)
    # Local dates filter; the UTC instants around them bound the (…, start) index range read.
    if first is not None:
        query = query.where(bookings.c.local_date >= first.isoformat())
        query = query.where(bookings.c.start >= _midnight(first) - ANY_OFFSET)
    if last is not None:
        query = query.where(bookings.c.local_date <= last.isoformat())
        query = query.where(bookings.c.start < _midnight(last + timedelta(days=1)) + ANY_OFFSET)
    if status is not None:
        query = query.where(bookings.c.status == status)
    return _all(conn, query)


ANY_OFFSET = timedelta(days=1)  # more than any zone's offset from UTC (-12 h to +14 h)


def list_customer_bookings(conn: Connection, customer_id: str) -> list[Row]:
    """Every booking of the customer, by start then id (the export: no paging)."""
    query = select(bookings).where(bookings.c.customer_id == customer_id)
    return _all(conn, query.order_by(bookings.c.start, bookings.c.id))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def with_payments(conn: Connection, rows: list[Row]) -> list[Row]:
    """The booking rows, each with its online payment row under `payment` (or None)."""
    ids = [row["id"] for row in rows]
    found = (
        {
            r["booking_id"]: r
            for r in _all(
                conn, select(booking_payments).where(booking_payments.c.booking_id.in_(ids))
            )
        }
        if ids
        else {}
    )
    held = (
        {
            r["booking_id"]: r
            for r in _all(
                conn, select(booking_resources).where(booking_resources.c.booking_id.in_(ids))
            )
        }
        if ids
        else {}
    )
    return [
        {
            **row,
            "payment": found.get(row["id"]),
            "resources": (held.get(row["id"]) or {}).get("resources") or [],
            "series_id": (held.get(row["id"]) or {}).get("series_id"),
        }
        for row in rows
    ]


def blank_day() -> Row:
    return {
        "bookings": 0,
        "cancellations": 0,
        "no_shows": 0,
        "revenue": [],
        "captured": [],
        "refunded": [],
        "booked_minutes": 0,
    }


def daily_stats(conn: Connection, business_id: UUID, first: date, last: date) -> dict[str, Row]:
    """Counts, revenue, online money and booked occurrence minutes per local day."""
    key = str(business_id)
    days: dict[str, Row] = {}
    span = (first.isoformat(), last.isoformat())
    for row in conn.execute(
        select(business_daily_stats).where(
            (business_daily_stats.c.business_id == key) & business_daily_stats.c.day.between(*span)
        )
    ):
        days[row.day] = {
            **blank_day(),
            "bookings": row.bookings,
            "cancellations": row.cancellations,
            "no_shows": row.no_shows,
        }
    for row in conn.execute(
        select(business_daily_revenue)
        .where(
            (business_daily_revenue.c.business_id == key)
            & business_daily_revenue.c.day.between(*span)
        )
        .order_by(business_daily_revenue.c.currency)
    ):
        days.setdefault(row.day, blank_day())["revenue"].append(
            {"amount": row.amount, "currency": row.currency}
        )
    _add_online_money(conn, key, span, days)
    for (_, day), minutes in occurrence_minutes(conn, key, span).items():
        days.setdefault(day, blank_day())["booked_minutes"] += minutes
    return days


def occurrence_minutes(
    conn: Connection, business_id: str, span: tuple[str, str]
) -> Counter[tuple[str, str]]:
    """Minutes held per (service, day), a group session once, each one-to-one booking apiece."""
    seats = service_seats(conn, business_id)
    facts = conn.execute(
        select(
            stats_booking_facts.c.booking_id,
            stats_booking_facts.c.day,
            stats_booking_facts.c.service_id,
            stats_booking_facts.c.start,
            stats_booking_facts.c.minutes,
        ).where(
            (stats_booking_facts.c.business_id == business_id)
            & stats_booking_facts.c.day.between(*span)
            & stats_booking_facts.c.status.not_in(("cancelled", "expired"))
        )
    )
    held: dict[tuple[Any, ...], tuple[str, str, int]] = {}
    for row in facts:
        group = seats.get(UUID(row.service_id), 1) > 1
        key = (row.service_id, row.start, row.minutes) if group else (row.booking_id,)
        held[key] = (row.service_id, row.day, row.minutes)
    minutes: Counter[tuple[str, str]] = Counter()
    for service_id, day, length in held.values():
        minutes[service_id, day] += length
    return minutes


def _add_online_money(
    conn: Connection, key: str, span: tuple[str, str], days: dict[str, Row]
) -> None:
    """Captured and refunded money per day; revenue gains what was captured and kept."""
    table = business_daily_payments
    rows = conn.execute(
        select(table)
        .where((table.c.business_id == key) & table.c.day.between(*span))
        .order_by(table.c.currency)
    )
    for row in rows:
        day = days.setdefault(row.day, blank_day())
        day["captured"].append({"amount": row.captured, "currency": row.currency})
        day["refunded"].append({"amount": row.refunded, "currency": row.currency})
        kept = Decimal(row.captured) - Decimal(row.refunded)
        booked = next((m for m in day["revenue"] if m["currency"] == row.currency), None)
        if booked is None:
            day["revenue"].append({"amount": str(kept), "currency": row.currency})
            day["revenue"].sort(key=lambda m: m["currency"])
        else:
            booked["amount"] = str(Decimal(booked["amount"]) + kept)


EARLIEST, LATEST = date(1900, 1, 1), date(9000, 12, 31)


def require_dates(*days: date | None) -> None:
    """Refuse dates the calendar arithmetic around them cannot handle."""
    for day in days:
        if day is not None and not EARLIEST <= day <= LATEST:
            raise InvalidInput(f"dates must lie between {EARLIEST} and {LATEST}", field="from")


def date_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
