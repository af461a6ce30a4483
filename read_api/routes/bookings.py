"""Booking reads: one booking, a business's bookings, the caller's bookings, stats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Connection

from domain.access import is_staff
from domain.actor import Actor, Role
from domain.booking import BookingStatus
from domain.errors import BookingNotFound, BusinessNotFound, InvalidInput, NotYourBusiness
from domain.resources import resource_calendar
from infra.web.deps import ActorDep
from infra.web.openapi import problems
from read_api import queries, stats
from read_api.availability import calendar_from, open_minutes
from read_api.consistency import BookingsRead, StatsRead
from read_api.paging import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    encode_cursor,
    instant,
    page,
    parse_key,
    uuid_text,
)
from read_api.personal import PersonalDataReader, complete, personal_export
from read_api.ports import PersonalDataDep, ReadDbDep
from read_api.resource_queries import list_resources
from read_api.schemas import BookingList, BookingPublic, BusinessStats, PersonalExport
from read_api.views import booking_view

router = APIRouter(tags=["bookings"])
MAX_STATS_DAYS = 366
BOOKING_CURSOR = "booking"
BY = (
    "`service`: each period also lists its figures per service; `resource`: per resource, "
    "with the resource's open minutes and utilization"
)


def staff_business(conn: Connection, actor: Actor, business_id: UUID) -> queries.Row:
    business = queries.get_business(conn, business_id)
    if business is None:
        raise BusinessNotFound(f"no business with id {business_id}")
    if not (is_staff(actor, business["owner_id"]) or actor.role is Role.AUDITOR):
        raise NotYourBusiness("only the business's owner (or an admin) may read this")
    return business


def _range(first: date | None, last: date | None, most: int) -> None:
    queries.require_dates(first, last)
    if first and last and last < first:
        raise InvalidInput("'to' must not be before 'from'", field="to")
    if first and last and (last - first).days >= most:
        raise InvalidInput(f"ask for at most {most} days at once", field="to")


@router.get("/v1/bookings/{booking_id}", response_model=BookingPublic, openapi_extra=problems(404))
def get_booking(
    booking_id: UUID, actor: ActorDep, read_db: ReadDbDep, keys: PersonalDataDep, _: BookingsRead
) -> dict[str, Any]:
    """One booking: its customer, its business's owner, or an admin."""
    with read_db.reader.connect() as conn:
        row = queries.get_booking(conn, booking_id)
        if row is None:
            raise BookingNotFound(f"no booking with id {booking_id}")
        if row["customer_id"] != actor.id:
            try:
                staff_business(conn, actor, UUID(row["business_id"]))
            except (NotYourBusiness, BusinessNotFound):  # reveal nothing of others' bookings
                raise BookingNotFound(f"no booking with id {booking_id}") from None
        [row] = _complete(conn, keys, actor, [row])
    return booking_view(row)


@dataclass(frozen=True)
class BookingFilter:
    """Which bookings a list asks for, and which page."""

    first: date | None
    last: date | None
    status: str | None
    limit: int
    after: tuple[datetime, str] | None


def booking_filter(
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
    status: BookingStatus | None = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> BookingFilter:
    _range(first, last, MAX_STATS_DAYS)
    return BookingFilter(first, last, status.value if status else None, limit, _after(cursor))


FilterDep = Annotated[BookingFilter, Depends(booking_filter)]


@router.get(
    "/v1/businesses/{business_id}/bookings",
    response_model=BookingList,
    openapi_extra=problems(403, 404),
)
def list_business_bookings(
    business_id: UUID,
    actor: ActorDep,
    read_db: ReadDbDep,
    keys: PersonalDataDep,
    _: BookingsRead,
    wanted: FilterDep,
    resource_id: UUID | None = None,
) -> dict[str, Any]:
    """The business's bookings by local date range and status, by start (owner or admin);
    `resource_id`: only those holding that resource (a day view per resource)."""
    with read_db.reader.connect() as conn:
        staff_business(conn, actor, business_id)
        return _list(conn, keys, actor, wanted, business_id=business_id, resource_id=resource_id)


@router.get("/v1/me/bookings", response_model=BookingList)
def list_my_bookings(
    actor: ActorDep, read_db: ReadDbDep, keys: PersonalDataDep, _: BookingsRead, wanted: FilterDep
) -> dict[str, Any]:
    """The caller's own bookings as a customer, by local date range and status, by start."""
    with read_db.reader.connect() as conn:
        return _list(conn, keys, actor, wanted, customer_id=actor.id)


def _list(
    conn: Connection,
    keys: PersonalDataReader | None,
    actor: Actor,
    wanted: BookingFilter,
    **whose: Any,
) -> dict[str, Any]:
    rows = queries.list_bookings(
        conn,
        **whose,
        first=wanted.first,
        last=wanted.last,
        status=wanted.status,
        limit=wanted.limit + 1,
        after=wanted.after,
    )
    return _page(_complete(conn, keys, actor, rows), wanted.limit)


def _complete(
    conn: Connection, keys: PersonalDataReader | None, actor: Actor, rows: list[queries.Row]
) -> list[queries.Row]:
    """The rows with their payments and, for whoever may see it, their personal data."""
    return complete(conn, rows, keys, actor)


@router.get("/v1/me/export", response_model=PersonalExport)
def export_my_data(
    actor: ActorDep, read_db: ReadDbDep, keys: PersonalDataDep, _: BookingsRead
) -> dict[str, Any]:
    """Everything SlotWise holds about the caller: their bookings with contact and notes."""
    with read_db.reader.connect() as conn:
        return personal_export(conn, keys, actor.id)


def _after(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    start, booking_id = parse_key(cursor, BOOKING_CURSOR, instant, uuid_text)
    return start, booking_id


def _page(rows: list[queries.Row], limit: int) -> dict[str, Any]:
    shown, next_cursor = page(
        rows, limit, lambda r: encode_cursor(BOOKING_CURSOR, r["start"].isoformat(), r["id"])
    )
    return {"items": [booking_view(r) for r in shown], "next_cursor": next_cursor}


@router.get(
    "/v1/businesses/{business_id}/stats",
    response_model=BusinessStats,
    openapi_extra=problems(403, 404),
)
def get_stats(
    business_id: UUID,
    actor: ActorDep,
    read_db: ReadDbDep,
    _: StatsRead,
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date, Query(alias="to")],
    group: stats.Group = "day",
    by: Annotated[Literal["service", "resource"] | None, Query(description=BY)] = None,
) -> dict[str, Any]:
    """Per local day, ISO week or month (and per service or resource): counts, money,
    utilization."""
    _range(first, last, MAX_STATS_DAYS)
    key = str(business_id)
    per_service = by == "service"
    with read_db.reader.connect() as conn:
        business = staff_business(conn, actor, business_id)
        days = queries.daily_stats(conn, business_id, first, last)
        by_service = stats.service_day_stats(conn, key, first, last) if per_service else None
        names = stats.service_names(conn, key) if per_service else None
        by_resource = stats.resource_day_stats(conn, key, first, last) if by == "resource" else {}
        found = list_resources(conn, key) if by == "resource" else []
    calendar = calendar_from(business)
    span = queries.date_range(first, last)
    opening = {day: open_minutes(calendar, day) for day in span}
    report = stats.periods(span, group, days, opening, business["capacity"], by_service, names)
    if by == "resource":
        calendars = [resource_calendar(r, business["weekly"]) for r in found]
        stats.add_resources(report, group, by_resource, calendars, calendar, span)
    return {
        "business_id": key,
        "timezone": business["timezone"],
        "group": group,
        "by": by,
        "periods": report,
        "days": report if group == "day" else [],
    }
