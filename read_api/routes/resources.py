"""Reads of bookable resources (public, like the catalogue) and of recurring series."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter

from domain.errors import BusinessNotFound, NotYourBusiness, ResourceNotFound, SeriesNotFound
from infra.web.deps import ActorDep
from infra.web.openapi import problems
from read_api import queries
from read_api.consistency import BookingsRead, ResourcesRead
from read_api.ports import PersonalDataDep, ReadDbDep
from read_api.resource_queries import get_resource, list_resources
from read_api.routes.bookings import _complete, staff_business
from read_api.views import booking_view

router = APIRouter(tags=["resources"])


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


@router.get("/v1/businesses/{business_id}/resources", openapi_extra=problems(404))
def list_business_resources(
    business_id: UUID, read_db: ReadDbDep, _: ResourcesRead
) -> dict[str, Any]:
    """The business's resources (staff, rooms, equipment) with their hours and time off."""
    with read_db.reader.connect() as conn:
        business = queries.get_business(conn, business_id)
        if business is None:
            raise BusinessNotFound(f"no business with id {business_id}")
        rows = list_resources(conn, str(business_id))
    items = [resource_view(r, business["weekly"]) for r in rows]
    return {"items": items, "next_cursor": None}


@router.get("/v1/resources/{resource_id}", openapi_extra=problems(404))
def get_one_resource(resource_id: UUID, read_db: ReadDbDep, _: ResourcesRead) -> dict[str, Any]:
    """One resource with its hours and time off."""
    with read_db.reader.connect() as conn:
        row = get_resource(conn, resource_id)
        business = queries.get_business(conn, UUID(row["business_id"])) if row else None
    if row is None or business is None:
        raise ResourceNotFound(f"no resource with id {resource_id}")
    return resource_view(row, business["weekly"])


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
