"""Cached availability answers: keyed by the read-model state they were computed from.

The key holds the service's and the business's aggregate versions, the sum of
the versions of the business's services (their seats decide how held bookings
group) and the business's allocation stamp (a random value the availability
projector writes with every change of that business's allocations, in the
same transaction): the projection position of everything the answer reads.
They are read in one query before the allocations, so a cached answer reflects
at least the state its key names; a read that waited for its consistency token
sees the new versions and stamp, hence a new key: it can never be served an
answer computed before the write it waited for.

The answer also depends on the clock (min notice, max advance): an entry
records the instants between which its slots stay exactly what the policy
offers, and a read outside them computes afresh.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from sqlalchemy import Connection, func, select

from domain.errors import ServiceNotFound
from infra.read_cache import ReadCache
from projections.tables import availability_stamps, businesses, services


def availability_key(conn: Connection, service_id: UUID, first: date, last: date) -> str:
    """The cache key of from..to of the service's current state; ServiceNotFound if none."""
    siblings = services.alias("siblings")
    all_versions = (
        select(func.sum(siblings.c.version))
        .where(siblings.c.business_id == services.c.business_id)
        .scalar_subquery()
    )
    state = conn.execute(
        select(
            services.c.active,
            services.c.version,
            businesses.c.version.label("business_version"),
            all_versions.label("services_version"),
            availability_stamps.c.stamp,
        )
        .select_from(
            services.outerjoin(businesses, businesses.c.id == services.c.business_id).outerjoin(
                availability_stamps, availability_stamps.c.business_id == services.c.business_id
            )
        )
        .where(services.c.id == str(service_id))
    ).first()
    if state is None or not state.active:
        raise ServiceNotFound(f"no active service with id {service_id}")
    if state.business_version is None:
        raise ServiceNotFound(f"service {service_id} is not bookable yet")
    return (
        f"availability:{service_id}:{state.version}:{state.business_version}:"
        f"{state.services_version}:{state.stamp or '-'}:{first.isoformat()}:{last.isoformat()}"
    )


EPOCH, MICROSECOND = datetime(1970, 1, 1, tzinfo=UTC), timedelta(microseconds=1)


def _micros(instant: datetime) -> int:
    return (instant - EPOCH) // MICROSECOND


def entry(body: bytes, since: datetime, until: datetime) -> bytes:
    """A cache entry: the answer, exact from `since` until before `until`."""
    return b"%d %d\n" % (_micros(since), _micros(until)) + body


def answer_at(found: bytes | None, now: datetime) -> bytes | None:
    """The cached answer if it holds at `now`."""
    if found is None:
        return None
    head, _, body = found.partition(b"\n")
    since, until = (int(n) for n in head.split())
    return body if since <= _micros(now) < until else None


def cached(cache: ReadCache, key: str, now: datetime) -> bytes | None:
    return answer_at(cache.get(key), now)
