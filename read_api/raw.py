"""Hot queries run as driver SQL: compiled once per dialect, rows read without SQLAlchemy.

Building a Core statement and computing its cache key costs more than running
an indexed query, and the result processing of the UTCDateTime columns costs
more again per row; availability runs these on every read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql import ClauseElement


def single_statements(conn: Connection) -> Connection:
    """On PostgreSQL, statements without BEGIN and ROLLBACK around them: a cache hit is one
    query, and READ COMMITTED gives each statement its own snapshot anyway."""
    if conn.dialect.name == "postgresql":
        return conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn


_compiled: dict[tuple[int, str], tuple[str, tuple[str, ...]]] = {}


def compiled(conn: Connection, statement: ClauseElement) -> tuple[str, tuple[str, ...]]:
    """(SQL, parameter names in order if the driver's style is positional, else ())."""
    key = (id(statement), conn.dialect.name)
    if key not in _compiled:
        done = conn.dialect.statement_compiler(conn.dialect, statement)
        names = tuple(done.positiontup or ()) if done.positional else ()
        _compiled[key] = (str(done), names)
    return _compiled[key]


class UTCInstants:
    """Aware UTC datetimes out of a driver's values, and what the driver takes in."""

    def __init__(self, naive_text: bool) -> None:
        self.naive_text = naive_text  # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" in UTC

    def __call__(self, value: Any) -> datetime:
        if isinstance(value, str):
            return datetime.fromisoformat(value + "+00:00")  # one C call, no replace()
        found: datetime = value
        return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)

    def bind(self, value: Any) -> Any:
        if not isinstance(value, datetime):
            return value
        value = value.astimezone(UTC)
        return (
            value.replace(tzinfo=None).isoformat(" ", "microseconds") if self.naive_text else value
        )


def utc_reader(conn: Connection) -> UTCInstants:
    return UTCInstants(naive_text=conn.dialect.name == "sqlite")
