"""SQLAlchemy engines for the read models (SQLite file or PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from infra.pg_deadline import DeadlineConnection
from infra.settings import pool_options, sqlalchemy_url
from projections.tables import metadata


@dataclass
class ReadDatabase:
    """`writer` serialises projector transactions; `reader` serves queries."""

    writer: Engine
    reader: Engine

    def create_tables(self) -> None:
        metadata.create_all(self.writer)

    @classmethod
    def shared(cls, engine: Engine) -> ReadDatabase:
        return cls(engine, engine)

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()


def sqlite_engine(url: str, *, immediate: bool) -> Engine:
    """A SQLite engine in WAL mode; `immediate` takes the write lock at BEGIN."""
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA busy_timeout=30000")
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def open_read_database(
    url: str,
    pool_size: int = 2,
    max_overflow: int = 4,
    pool_timeout: float = 10.0,
    connect_timeout: int = 3,
) -> ReadDatabase:
    """Open the read models' database; PostgreSQL pools are sized by the caller (settings)."""
    if make_url(url).get_backend_name() == "sqlite":
        return ReadDatabase(sqlite_engine(url, immediate=True), sqlite_engine(url, immediate=False))
    engine = postgres_engine(url, pool_size, max_overflow, pool_timeout, connect_timeout)
    return ReadDatabase.shared(engine)


def occasional_reader(url: str, connect_timeout: int = 3) -> Engine:
    """The read models for a role that reads them rarely: no pool, a connection per use."""
    if make_url(url).get_backend_name() == "sqlite":
        return sqlite_engine(url, immediate=False)
    timeout = parse_qs(urlsplit(url).query).get("connect_timeout", [str(connect_timeout)])[-1]
    engine = create_engine(
        sqlalchemy_url(url), poolclass=NullPool, connect_args={"connect_timeout": int(timeout)}
    )

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        return DeadlineConnection.connect(*cargs, **cparams)

    return engine


def postgres_engine(
    url: str, pool_size: int, max_overflow: int, pool_timeout: float, connect_timeout: int = 3
) -> Engine:
    """A lazily connecting pool; `pool_size`/`max_overflow`/`pool_timeout` in the URL win.

    Connections open within `connect_timeout` (or the URL's) and keep a request's
    deadline (infra/pg_deadline.py).
    """
    options = pool_options(
        url, pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout
    )
    timeout = parse_qs(urlsplit(url).query).get("connect_timeout", [str(connect_timeout)])[-1]
    engine = create_engine(
        sqlalchemy_url(url),
        pool_pre_ping=True,
        connect_args={"connect_timeout": int(timeout)},
        **options,
    )

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        return DeadlineConnection.connect(*cargs, **cparams)

    return engine
