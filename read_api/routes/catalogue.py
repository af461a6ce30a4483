"""Public catalogue reads: businesses, services, availability."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from domain.errors import BusinessNotFound, ServiceNotFound
from infra.web.openapi import problems
from read_api import queries
from read_api.availability import offer_for, require_bounded
from read_api.cache import availability_key, cached, entry
from read_api.consistency import AvailabilityRead, CatalogueRead, DirectoryRead
from read_api.paging import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    encode_cursor,
    page,
    parse_key,
    uuid_text,
)
from read_api.ports import CacheDep, ClockDep, ReadDbDep
from read_api.raw import single_statements
from read_api.schemas import Availability, BusinessPage, BusinessPublic, ServicePublic
from read_api.views import availability_json, business_view, service_view

router = APIRouter(tags=["catalogue"])
BUSINESS_CURSOR = "business"


@router.get("/v1/businesses", response_model=BusinessPage)
def list_businesses(
    read_db: ReadDbDep,
    _: DirectoryRead,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    """Business directory, paged by an opaque cursor."""
    after = parse_key(cursor, BUSINESS_CURSOR, uuid_text)[0] if cursor is not None else None
    with read_db.reader.connect() as conn:
        rows = queries.list_businesses(conn, limit + 1, after)
    shown, next_cursor = page(rows, limit, lambda r: encode_cursor(BUSINESS_CURSOR, r["id"]))
    return {"items": [business_view(r) for r in shown], "next_cursor": next_cursor}


@router.get(
    "/v1/businesses/by-slug/{slug}", response_model=BusinessPublic, openapi_extra=problems(404)
)
def get_business_by_slug(slug: str, read_db: ReadDbDep, _: DirectoryRead) -> dict[str, Any]:
    """One business by its unique slug."""
    with read_db.reader.connect() as conn:
        row = queries.get_business_by_slug(conn, slug)
    if row is None:
        raise BusinessNotFound(f"no business with slug {slug!r}")
    return business_view(row)


@router.get(
    "/v1/businesses/{business_id}", response_model=BusinessPublic, openapi_extra=problems(404)
)
def get_business(business_id: UUID, read_db: ReadDbDep, _: DirectoryRead) -> dict[str, Any]:
    """One business profile."""
    with read_db.reader.connect() as conn:
        row = queries.get_business(conn, business_id)
    if row is None:
        raise BusinessNotFound(f"no business with id {business_id}")
    return business_view(row)


@router.get(
    "/v1/businesses/{business_id}/services",
    response_model=list[ServicePublic],
    openapi_extra=problems(404),
)
def list_services(business_id: UUID, read_db: ReadDbDep, _: CatalogueRead) -> list[dict[str, Any]]:
    """The business's active services."""
    with read_db.reader.connect() as conn:
        if queries.get_business(conn, business_id) is None:
            raise BusinessNotFound(f"no business with id {business_id}")
        return [service_view(r) for r in queries.list_active_services(conn, business_id)]


@router.get(
    "/v1/services/{service_id}/availability",
    response_model=Availability,
    openapi_extra=problems(404),
)
def get_availability(
    service_id: UUID,
    read_db: ReadDbDep,
    cache: CacheDep,
    clock: ClockDep,
    _: AvailabilityRead,
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date, Query(alias="to")],
    resource_id: UUID | None = None,
) -> Response:
    """Bookable slots with their local dates in from..to (inclusive), with seats left.

    At most 62 days and 3,000 start times per request (422 naming `to` beyond).
    `seats_left`: for a one-to-one service, how many more appointments can start
    then in parallel; for a group service, the seats left in that session; for a
    service that needs resources, how many bookings could start (each slot lists the
    free resources; `resource_id` keeps the starts where that one is free).
    """
    require_bounded(first, last)
    now = clock().replace(microsecond=0)
    with single_statements(read_db.reader.connect()) as conn:
        state = availability_key(conn, service_id, first, last)
        key = state.key
        # Resources change with their business's events, which the key does not follow yet.
        by_resources = state.needs_resources
        body = None if by_resources else cached(cache, key, now)
        if body is None:
            service = queries.get_service(conn, service_id)
            business = queries.get_business(conn, UUID(service["business_id"])) if service else None
            if service is None or business is None:  # gone since the key was read
                raise ServiceNotFound(f"no active service with id {service_id}")
            offer = offer_for(conn, business, service, first, last, now, resource_id)
            body = availability_json(service_id, business["timezone"], offer.slots)
            if not by_resources:
                cache.put(key, entry(body, now, offer.until))
    return Response(body, media_type="application/json")
