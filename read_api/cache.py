"""Which read-model state an availability answer was computed from: its cache key.

The key holds the service's and the business's aggregate versions and the
business's allocation stamp (a random value the availability projector writes
with every change of that business's allocations, in the same transaction).
They are read before the allocations, so a cached answer reflects at least the
state its key names; a read that waited for its consistency token sees the
new versions and stamp, hence a new key: it can never be served an answer
computed before the write it waited for.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, select

from projections.tables import availability_stamps
from read_api.queries import Row


def allocation_stamp(conn: Connection, business_id: str) -> str:
    found = conn.execute(
        select(availability_stamps.c.stamp).where(availability_stamps.c.business_id == business_id)
    ).scalar_one_or_none()
    return str(found or "-")


def availability_key(
    conn: Connection, service: Row, business: Row, first: date, last: date, now: datetime
) -> str:
    stamp = allocation_stamp(conn, business["id"])
    return (
        f"availability:{service['id']}:{service['version']}:{business['version']}:{stamp}:"
        f"{first.isoformat()}:{last.isoformat()}:{now.isoformat()}"
    )
