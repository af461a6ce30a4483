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

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Select, bindparam, exists, func, select

from domain.errors import ServiceNotFound
from projections.tables import availability_stamps, businesses, service_requirements, services
from read_api.ports import AnswerCache


def _state_query() -> Select[Any]:
    siblings = services.alias("siblings")
    all_versions = (
        select(func.sum(siblings.c.version))
        .where(siblings.c.business_id == services.c.business_id)
        .scalar_subquery()
    )
    return (
        select(
            services.c.active,
            services.c.version,
            businesses.c.version.label("business_version"),
            all_versions.label("services_version"),
            availability_stamps.c.stamp,
            exists()
            .where(service_requirements.c.service_id == services.c.id)
            .label("needs_resources"),
        )
        .select_from(
            services.outerjoin(businesses, businesses.c.id == services.c.business_id).outerjoin(
                availability_stamps, availability_stamps.c.business_id == services.c.business_id
            )
        )
        .where(services.c.id == bindparam("service_id"))
    )


STATE = _state_query()
_compiled: dict[str, tuple[str, bool]] = {}


def _state_sql(conn: Connection) -> tuple[str, bool]:
    """STATE compiled once per dialect: building and keying a statement costs more than
    running it, and this query runs on every availability read (a cache hit included)."""
    name = conn.dialect.name
    if name not in _compiled:
        compiled = STATE.compile(dialect=conn.dialect)
        _compiled[name] = (str(compiled), bool(compiled.positional))
    return _compiled[name]


@dataclass(frozen=True)
class AvailabilityState:
    key: str  # the cache key of from..to of the service's current state
    needs_resources: bool  # its answer depends on resources, which the key does not follow


def availability_key(
    conn: Connection, service_id: UUID, first: date, last: date
) -> AvailabilityState:
    """The service's state for from..to, in one query (a cache hit's only one besides the
    cache itself); ServiceNotFound if there is no such active service."""
    sql, positional = _state_sql(conn)
    params = (str(service_id),) if positional else {"service_id": str(service_id)}
    state = conn.exec_driver_sql(sql, params).first()
    if state is None or not state[0]:
        raise ServiceNotFound(f"no active service with id {service_id}")
    version, business_version, services_version, stamp, needs_resources = state[1:]
    if business_version is None:
        raise ServiceNotFound(f"service {service_id} is not bookable yet")
    key = (
        f"availability.2:{service_id}:{version}:{business_version}:{services_version}:"
        f"{stamp or '-'}:{first.isoformat()}:{last.isoformat()}"
    )
    return AvailabilityState(key, bool(needs_resources))


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
    try:
        since, until = (int(n) for n in head.split())
    except ValueError:  # not an entry this code wrote: compute afresh
        return None
    return body if since <= _micros(now) < until else None


def cached(cache: AnswerCache, key: str, now: datetime) -> bytes | None:
    return answer_at(cache.get(key), now)
