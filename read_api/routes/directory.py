"""Reads around one business: its closures, one service, and the caller's own businesses."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from sqlalchemy import Connection

from domain.errors import BusinessNotFound, ClosureNotFound, ServiceNotFound
from infra.web.deps import ActorDep
from infra.web.openapi import problems
from read_api import queries
from read_api.consistency import CatalogueRead, DirectoryRead
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
from read_api.schemas import BusinessPage, ClosurePage, ClosurePublic, ServicePublic
from read_api.views import business_view, closure_views, service_view

router = APIRouter(tags=["catalogue"])
CLOSURE_CURSOR, OWNED_CURSOR = "closure", "owned-business"


def _business(conn: Connection, business_id: UUID) -> queries.Row:
    row = queries.get_business(conn, business_id)
    if row is None:
        raise BusinessNotFound(f"no business with id {business_id}")
    return row


@router.get(
    "/v1/businesses/{business_id}/closures",
    response_model=ClosurePage,
    openapi_extra=problems(404),
)
def list_closures(
    business_id: UUID,
    read_db: ReadDbDep,
    _: DirectoryRead,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    """The business's closures with their ids, by start then id, paged by an opaque cursor."""
    after: tuple[datetime, str] | None = None
    if cursor is not None:
        start, closure_id = parse_key(cursor, CLOSURE_CURSOR, instant, uuid_text)
        after = (start, closure_id)
    with read_db.reader.connect() as conn:
        closures = closure_views(_business(conn, business_id))
    if after is not None:
        closures = [c for c in closures if (_start(c), c["id"]) > after]
    shown, next_cursor = page(
        closures, limit, lambda c: encode_cursor(CLOSURE_CURSOR, _start(c).isoformat(), c["id"])
    )
    return {"items": shown, "next_cursor": next_cursor}


def _start(closure: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(closure["start"]))


@router.get(
    "/v1/businesses/{business_id}/closures/{closure_id}",
    response_model=ClosurePublic,
    openapi_extra=problems(404),
)
def get_closure(
    business_id: UUID, closure_id: UUID, read_db: ReadDbDep, _: DirectoryRead
) -> dict[str, Any]:
    """One closure of the business."""
    with read_db.reader.connect() as conn:
        closures = closure_views(_business(conn, business_id))
    found = next((c for c in closures if c["id"] == str(closure_id)), None)
    if found is None:
        raise ClosureNotFound(f"business {business_id} has no closure {closure_id}")
    return found


@router.get("/v1/services/{service_id}", response_model=ServicePublic, openapi_extra=problems(404))
def get_service(service_id: UUID, read_db: ReadDbDep, _: CatalogueRead) -> dict[str, Any]:
    """One service, active or not."""
    with read_db.reader.connect() as conn:
        row = queries.get_service(conn, service_id)
    if row is None:
        raise ServiceNotFound(f"no service with id {service_id}")
    return service_view(row)


@router.get("/v1/me/businesses", response_model=BusinessPage)
def list_my_businesses(
    actor: ActorDep,
    read_db: ReadDbDep,
    _: DirectoryRead,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    """The businesses the caller registered (owns), by id, paged by an opaque cursor."""
    after = parse_key(cursor, OWNED_CURSOR, uuid_text)[0] if cursor is not None else None
    with read_db.reader.connect() as conn:
        rows = queries.list_owned_businesses(conn, actor.id, limit + 1, after)
    shown, next_cursor = page(rows, limit, lambda r: encode_cursor(OWNED_CURSOR, r["id"]))
    return {"items": [business_view(r) for r in shown], "next_cursor": next_cursor}
