"""The waitlist's line on the read side: seats it has first claim to show as taken.

The write side lets each entry waiting without an offer (first come, first)
take a freed seat before anyone books it (`domain.line`); availability shows
the same, with the same rule, from the read models: the waiting entries, the
holds around them, the services waited for and the business's calendar.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, select

from domain.business import calendar_of
from domain.line import Line, WaitedService, Waiting
from domain.resources import Requirement, resource_calendar
from domain.slots import Occupancy
from projections.tables import resource_holds, service_requirements, services, waitlist_line
from read_api.queries import list_held
from read_api.resource_queries import list_resources

Row = dict[str, Any]


def waiting_between(
    conn: Connection, business_id: str, lo: datetime, hi: datetime, longest: timedelta
) -> list[Waiting]:
    """Entries in line whose held time overlaps [lo, hi), first come first."""
    t = waitlist_line.c
    query = (
        select(waitlist_line)
        .where(
            t.business_id == business_id,
            t.occupied_start >= lo - longest,
            t.occupied_start < hi,
            t.occupied_end > lo,
        )
        .order_by(t.seq, t.entry_id)
    )
    return [
        Waiting(
            UUID(r["entry_id"]),
            UUID(r["service_id"]),
            r["customer_id"],
            r["start"],
            r["end"],
            r["occupied_start"],
            r["occupied_end"],
            UUID(r["resource_id"]) if r["resource_id"] else None,
            r["seq"],
        )
        for r in conn.execute(query).mappings()
    ]


def reserved_for_line(
    conn: Connection,
    business: Row,
    lo: datetime,
    hi: datetime,
    longest: timedelta,
    now: datetime,
) -> list[Occupancy]:
    """The seats the line around [lo, hi) takes first (none, after one query, when nobody
    waits there)."""
    line = waiting_between(conn, business["id"], lo, hi, longest)
    if not line:
        return []
    around_lo = min(lo, *(w.occupied_start for w in line))
    around_hi = max(hi, *(w.occupied_end for w in line))
    held = held_around(conn, business["id"], around_lo, around_hi, longest)
    waited = waited_services(conn, business["id"])
    rules = Line(
        calendar_of(
            business["timezone"],
            business["weekly"],
            business["closures"],
            business["capacity"],
            business["policy"],
        ),
        [resource_calendar(r, business["weekly"]) for r in list_resources(conn, business["id"])],
        waited,
        {service_id: service.seats for service_id, service in waited.items()},
        now,
    )
    return rules.reserve(line, held)


def held_around(
    conn: Connection, business_id: str, lo: datetime, hi: datetime, longest: timedelta
) -> list[Occupancy]:
    """Every hold overlapping [lo, hi): pooled ones, and those naming the resources they hold."""
    t = resource_holds.c
    with_resources = {
        str(r["booking_id"]): r
        for r in conn.execute(
            select(resource_holds).where(
                t.business_id == business_id,
                t.occupied_start >= lo - longest,
                t.occupied_start < hi,
                t.occupied_end > lo,
            )
        ).mappings()
    }
    held = []
    for b, s, start, end, o_start, o_end in list_held(conn, business_id, lo, hi, longest):
        found = with_resources.get(b)
        ids = tuple(UUID(r) for r in found["resource_ids"]) if found else ()
        held.append(Occupancy(UUID(b), UUID(s), start, end, o_start, o_end, ids))
    return held


def waited_services(conn: Connection, business_id: str) -> dict[UUID, WaitedService]:
    """Each service of the business: its seats, the resources it needs, whether it books."""
    needs: dict[str, Requirement | None] = {
        r["service_id"]: Requirement.of(r["requires"], r["also_requires"])
        for r in conn.execute(
            select(service_requirements)
            .join(services, services.c.id == service_requirements.c.service_id)
            .where(services.c.business_id == business_id)
        ).mappings()
    }
    query = select(services.c.id, services.c.seats, services.c.active).where(
        services.c.business_id == business_id
    )
    return {
        UUID(r.id): WaitedService(r.seats, needs.get(r.id), r.active) for r in conn.execute(query)
    }
