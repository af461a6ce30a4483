"""PostgreSQL deadlines inside a request: no answer in time closes the connection, and 503.

The HTTP layer sets `REQUEST_DEADLINE` for each request (infra/web/deadline.py);
every PostgreSQL connection and pool of the process honour it, so a hung or
black-holed server costs a request at most that long per answer it waits for.
Background work (projectors, the relay, rebuilds) sets none and is unaffected.
The error is a `DatabaseError`, not an `OperationalError`, so the event store's
library does not retry it ten times.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, TypeVar

import psycopg
from eventsourcing.postgres import ConnectionPool
from psycopg import errors
from psycopg.abc import PQGen
from psycopg.connection import _WAIT_INTERVAL  # the library's own default
from psycopg_pool import PoolTimeout

RV = TypeVar("RV")
# Seconds a request may wait for any one answer from PostgreSQL (None: no deadline).
REQUEST_DEADLINE: ContextVar[float | None] = ContextVar("slotwise_db_deadline", default=None)


class DatabaseTimeout(psycopg.DatabaseError):
    """PostgreSQL did not answer (or give a connection) within the request's deadline."""


class DeadlineConnection(psycopg.Connection[Any]):
    """A connection whose every wait for the server ends at the request's deadline."""

    def wait(
        self, gen: PQGen[RV], interval: float = _WAIT_INTERVAL, timeout: float | None = None
    ) -> RV:
        limit = REQUEST_DEADLINE.get()
        if limit is None or (timeout is not None and timeout <= limit):
            return super().wait(gen, interval, timeout)
        try:
            return super().wait(gen, interval, limit)
        except errors._WaitTimeout:
            self.pgconn.finish()  # half a conversation: the connection cannot be reused
            raise DatabaseTimeout(f"no answer from PostgreSQL within {limit:g} s") from None


class DeadlinePool(ConnectionPool[Any]):
    """The event store's pool: a request waits for a connection no longer than its deadline."""

    def getconn(self, timeout: float | None = None) -> Any:
        limit = REQUEST_DEADLINE.get()
        if limit is None:
            return super().getconn(timeout)
        try:
            return super().getconn(min(timeout or self.timeout, limit))
        except PoolTimeout:
            raise DatabaseTimeout(f"no PostgreSQL connection within {limit:g} s") from None
