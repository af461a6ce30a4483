"""Read-model queries about bookable resources: the resources, their holds, services' needs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, RowMapping, select

from domain.resources import Requirement, Span
from projections.tables import resource_holds, resources, service_requirements

Row = dict[str, Any]


def list_resources(conn: Connection, business_id: str) -> list[Row]:
    """The business's resources, by name then id."""
    query = (
        select(resources)
        .where(resources.c.business_id == business_id)
        .order_by(resources.c.name, resources.c.id)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def get_resource(conn: Connection, resource_id: UUID) -> Row | None:
    found = conn.execute(select(resources).where(resources.c.id == str(resource_id))).mappings()
    row = found.first()
    return dict(row) if row else None


def service_requirement(conn: Connection, service_id: str) -> Requirement | None:
    query = select(service_requirements).where(service_requirements.c.service_id == service_id)
    row = conn.execute(query).mappings().first()
    return None if row is None else Requirement.of(row["requires"], row["also_requires"])


def _holds(
    conn: Connection, business_id: str, lo: datetime, hi: datetime, longest: timedelta
) -> Iterable[RowMapping]:
    t = resource_holds.c
    query = select(resource_holds).where(
        t.business_id == business_id,
        t.occupied_start >= lo - longest,
        t.occupied_start < hi,
        t.occupied_end > lo,
    )
    return conn.execute(query).mappings()


def resource_holds_between(
    conn: Connection, business_id: str, lo: datetime, hi: datetime, longest: timedelta
) -> dict[UUID, list[Span]]:
    """Each resource's held intervals overlapping [lo, hi)."""
    found: dict[UUID, list[Span]] = {}
    for row in _holds(conn, business_id, lo, hi, longest):
        for rid in row["resource_ids"]:
            found.setdefault(UUID(rid), []).append((row["occupied_start"], row["occupied_end"]))
    return found


def resource_booking_ids(
    conn: Connection, business_id: str, lo: datetime, hi: datetime, longest: timedelta
) -> set[str]:
    """Bookings in [lo, hi) that hold resources (they take no place in the capacity pool)."""
    return {str(row["booking_id"]) for row in _holds(conn, business_id, lo, hi, longest)}
