"""Reads of bookable resources (public, like the catalogue) and of recurring series."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from domain.errors import (
    BusinessNotFound,
    InvalidInput,
    NotYourBusiness,
    ResourceNotFound,
    SeriesNotFound,
)
from domain.resources import open_spans, resource_calendar
from domain.slots import Calendar, local_instant
from infra.web.deps import ActorDep
from infra.web.openapi import problems
from read_api import queries
from read_api.availability import MAX_AVAILABILITY_DAYS, calendar_from, require_bounded
from read_api.consistency import BookingsRead, ResourcesRead
from read_api.ports import PersonalDataDep, ReadDbDep
from read_api.resource_queries import get_resource, list_resources
from read_api.routes.bookings import _complete, staff_business
from read_api.views import booking_view

router = APIRouter(tags=["resources"])
FROM = (
    "With it, each resource carries `schedule`: per local day from `from` to `to` "
    f"(default: `from`; at most {MAX_AVAILABILITY_DAYS} days), its open intervals and the "
    "time off that touches the day"
)
FromQuery = Annotated[date | None, Query(alias="from", description=FROM)]
ToQuery = Annotated[date | None, Query(alias="to")]


def resource_view(row: dict[str, Any], business_weekly: list[Any]) -> dict[str, Any]:
    """A resource with its own hours (the business's when it has none) and its time off."""
    return {
        "id": row["id"],
        "business_id": row["business_id"],
        "name": row["name"],
        "kind": row["kind"],
        "category": row["category"],
        "metadata": row["metadata"],
        "weekly": business_weekly if row["weekly"] is None else row["weekly"],
        "own_hours": row["weekly"] is not None,
        "time_off": row["time_off"],
        "active": row["active"],
        "version": row["version"],
    }


@router.get("/v1/businesses/{business_id}/resources", openapi_extra=problems(404, 422))
def list_business_resources(
    business_id: UUID,
    read_db: ReadDbDep,
    _: ResourcesRead,
    first: FromQuery = None,
    last: ToQuery = None,
) -> dict[str, Any]:
    """The business's resources (staff, rooms, equipment) with their hours and time off;
    with `from` (and `to`), each one's schedule of those days."""
    days = _days(first, last)
    with read_db.reader.connect() as conn:
        business = queries.get_business(conn, business_id)
        if business is None:
            raise BusinessNotFound(f"no business with id {business_id}")
        rows = list_resources(conn, str(business_id))
    items = [_with_schedule(resource_view(r, business["weekly"]), business, days) for r in rows]
    return {"items": items, "next_cursor": None}


@router.get("/v1/resources/{resource_id}", openapi_extra=problems(404, 422))
def get_one_resource(
    resource_id: UUID,
    read_db: ReadDbDep,
    _: ResourcesRead,
    first: FromQuery = None,
    last: ToQuery = None,
) -> dict[str, Any]:
    """One resource with its hours and time off; with `from` (and `to`), its schedule."""
    days = _days(first, last)
    with read_db.reader.connect() as conn:
        row = get_resource(conn, resource_id)
        business = queries.get_business(conn, UUID(row["business_id"])) if row else None
    if row is None or business is None:
        raise ResourceNotFound(f"no resource with id {resource_id}")
    return _with_schedule(resource_view(row, business["weekly"]), business, days)


def _days(first: date | None, last: date | None) -> list[date] | None:
    if first is None:
        if last is not None:
            raise InvalidInput("'to' needs 'from' (the first day of the schedule)", field="from")
        return None
    last = first if last is None else last
    require_bounded(first, last)
    return queries.date_range(first, last)


def _with_schedule(
    view: dict[str, Any], business: queries.Row, days: list[date] | None
) -> dict[str, Any]:
    if days is not None:
        view["schedule"] = schedule(view, calendar_from(business), days)
    return view


def schedule(view: dict[str, Any], business: Calendar, days: list[date]) -> list[dict[str, Any]]:
    """Per local day, when the resource can be booked (its hours within the business's, less
    closures and time off: what stats count as its open minutes) and its time off that day."""
    tz: ZoneInfo = business.timezone
    calendar = resource_calendar(view, [])
    active = bool(view["active"])  # a deactivated resource cannot be booked on any day
    out = []
    for day in days:
        lo, hi = local_instant(tz, day, 0), local_instant(tz, day + timedelta(days=1), 0)
        out.append(
            {
                "date": day.isoformat(),
                "open": [
                    {"start": s.astimezone(tz), "end": e.astimezone(tz)}
                    for s, e in (open_spans(calendar, business, day) if active else [])
                ],
                "time_off": [
                    t
                    for t in view["time_off"]
                    if _instant(t["start"]) < hi and lo < _instant(t["end"])
                ],
            }
        )
    return out


def _instant(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


@router.get("/v1/series/{series_id}", openapi_extra=problems(404))
def get_series(
    series_id: UUID, actor: ActorDep, read_db: ReadDbDep, keys: PersonalDataDep, _: BookingsRead
) -> dict[str, Any]:
    """A recurring series' bookings: its customer, its business's owner, or an admin."""
    with read_db.reader.connect() as conn:
        rows = queries.list_bookings(conn, series_id=series_id, limit=60)
        if not rows:
            raise SeriesNotFound(f"no series with id {series_id}")
        if rows[0]["customer_id"] != actor.id:
            try:
                staff_business(conn, actor, UUID(rows[0]["business_id"]))
            except (NotYourBusiness, BusinessNotFound):
                raise SeriesNotFound(f"no series with id {series_id}") from None
        rows = _complete(conn, keys, actor, rows)
    return {"series_id": str(series_id), "bookings": [booking_view(r) for r in rows]}
