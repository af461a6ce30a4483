"""Calendars (a business's secret feed, one booking for its customer) and the notification log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from commands.processes.notify.ics import CalendarEntry, calendar, location
from domain.errors import BookingNotFound, InvalidInput, NotFound
from infra.web.deps import ActorDep
from infra.web.openapi import problems
from projections.tables import bookings
from read_api import queries
from read_api.paging import DEFAULT_LIMIT, CursorQuery, LimitQuery
from read_api.ports import ClockDep, FeedsDep, NotificationsDep, ReadDbDep
from read_api.routes.bookings import staff_business

router = APIRouter(tags=["notifications"])
ICS = "text/calendar; charset=utf-8"
FEED_BACK, FEED_AHEAD = timedelta(days=30), timedelta(days=180)


class FeedNotFound(NotFound):
    code = "calendar-feed-not-found"


def _entry(row: dict[str, Any], business: dict[str, Any] | None) -> CalendarEntry:
    return CalendarEntry(
        row["id"],
        row["version"],
        row["start"],
        row["end"],
        row["service_name"],
        cancelled=row["status"] in ("cancelled", "expired"),
        stamp=row["updated_at"],
        location=location(business["name"], business["address"]) if business else None,
    )


@router.get(
    "/v1/calendar/{feed_key}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
    openapi_extra=problems(404),
)
def calendar_feed(feed_key: str, feeds: FeedsDep, read_db: ReadDbDep, clock: ClockDep) -> Response:
    """The business's bookings 30 days back and 180 ahead, for calendar apps (secret URL)."""
    business_id = feeds.business_of(feed_key)
    if business_id is None:
        raise FeedNotFound("no calendar feed with this key (it may have been rotated)")
    now = clock()
    with read_db.reader.connect() as conn:
        business = queries.get_business(conn, UUID(business_id))
        rows = conn.execute(
            select(bookings)
            .where(
                (bookings.c.business_id == business_id)
                & (bookings.c.start >= now - FEED_BACK)
                & (bookings.c.start <= now + FEED_AHEAD)
            )
            .order_by(bookings.c.start, bookings.c.id)
        ).all()
    if business is None:
        raise FeedNotFound("no calendar feed with this key")
    entries = [_entry(dict(row._mapping), business) for row in rows]
    return Response(calendar(entries, business["timezone"], "PUBLISH"), media_type=ICS)


@router.get(
    "/v1/bookings/{booking_id}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
    openapi_extra=problems(401, 404),
)
def booking_calendar(booking_id: UUID, actor: ActorDep, read_db: ReadDbDep) -> Response:
    """One booking as a calendar file, for its customer (or the business's staff)."""
    with read_db.reader.connect() as conn:
        row = queries.get_booking(conn, booking_id)
        if row is None:
            raise BookingNotFound(f"no booking with id {booking_id}")
        if row["customer_id"] != actor.id:
            try:
                staff_business(conn, actor, UUID(row["business_id"]))
            except Exception:
                raise BookingNotFound(f"no booking with id {booking_id}") from None
        business = queries.get_business(conn, UUID(row["business_id"]))
    method = "CANCEL" if row["status"] in ("cancelled", "expired") else "REQUEST"
    return Response(calendar([_entry(row, business)], row["timezone"], method), media_type=ICS)


@router.get("/v1/businesses/{business_id}/notifications", openapi_extra=problems(401, 403, 404))
def list_notifications(
    business_id: UUID,
    actor: ActorDep,
    read_db: ReadDbDep,
    notifications: NotificationsDep,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    """The business's notification log, newest first: sent, failed, skipped, waiting."""
    with read_db.reader.connect() as conn:
        staff_business(conn, actor, business_id)
    after = None
    if cursor is not None:
        if not cursor.isdigit():
            raise InvalidInput("malformed cursor", field="cursor")
        after = int(cursor)
    items, last = notifications.page(str(business_id), limit, after)
    return {"items": items, "next_cursor": str(last) if last is not None else None}
