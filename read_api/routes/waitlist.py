"""The caller's places in waitlists, with the seat each offer holds and until when."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from sqlalchemy import Connection, select

from domain.waitlist import EntryStatus
from infra.web.deps import ActorDep
from projections.tables import waitlist_entries
from read_api.consistency import WaitlistRead
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
from read_api.ports import ReadDbDep
from read_api.schemas import WaitlistList

router = APIRouter(tags=["waitlist"])
ENTRY_CURSOR = "waitlist"
Row = dict[str, Any]


@router.get("/v1/me/waitlist", response_model=WaitlistList)
def list_my_waitlist(
    actor: ActorDep,
    read_db: ReadDbDep,
    _: WaitlistRead,
    status: EntryStatus | None = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    """The caller's waitlist entries (any status, or `status`), by start; an `offered` one
    holds its seat until `offer_expires_at`: `POST /v1/waitlist/{id}/accept` books it."""
    after = None
    if cursor is not None:
        start, entry_id = parse_key(cursor, ENTRY_CURSOR, instant, uuid_text)
        after = (start, entry_id)
    with read_db.reader.connect() as conn:
        rows = entries_of(conn, actor.id, status, limit + 1, after)
    shown, next_cursor = page(
        rows, limit, lambda r: encode_cursor(ENTRY_CURSOR, r["start"].isoformat(), r["id"])
    )
    return {"items": [entry_view(r) for r in shown], "next_cursor": next_cursor}


def entries_of(
    conn: Connection,
    customer_id: str,
    status: EntryStatus | None,
    limit: int,
    after: tuple[datetime, str] | None,
) -> list[Row]:
    t = waitlist_entries.c
    query = select(waitlist_entries).where(t.customer_id == customer_id)
    if status is not None:
        query = query.where(t.status == status.value)
    if after is not None:
        start, entry_id = after
        query = query.where((t.start > start) | ((t.start == start) & (t.id > entry_id)))
    query = query.order_by(t.start, t.id).limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def entry_view(row: Row) -> Row:
    zone = ZoneInfo(row["timezone"])
    expires = row["offer_expires_at"]
    return {
        **{k: row[k] for k in ("id", "business_id", "service_id", "service_name")},
        "customer_id": row["customer_id"],
        "start": row["start"].astimezone(zone),
        "end": row["end"].astimezone(zone),
        "timezone": row["timezone"],
        "resource_id": row["resource_id"],
        "status": row["status"],
        "offer_expires_at": expires.astimezone(zone) if expires else None,
        "resources": row["resources"] or [],
        "booking_id": row["booking_id"],
        "joined_at": row["joined_at"],
    }
