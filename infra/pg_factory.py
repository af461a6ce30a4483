"""The event store's PostgreSQL infrastructure, with connect timeouts and request deadlines."""

from __future__ import annotations

from typing import Any

from eventsourcing.postgres import ConnectionPool, PostgresFactory
from eventsourcing.utils import Environment, EnvType

from infra.pg_deadline import DeadlineConnection, DeadlinePool

# libpq's connect_timeout for the pool's connections (the library passes none: 130 s).
CONNECT_TIMEOUT = "POSTGRES_LIBPQ_CONNECT_TIMEOUT"


class DeadlinePostgresFactory(PostgresFactory):
    """The library's factory; its pool opens connections within a timeout and keeps deadlines."""

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        datastore, old = self.datastore, self.datastore.pool  # built, not opened yet
        kwargs: dict[str, Any] = dict(old.kwargs) if isinstance(old.kwargs, dict) else {}
        kwargs["connect_timeout"] = int(self.env.get(CONNECT_TIMEOUT) or "3")
        datastore.pool = DeadlinePool(
            get_password_func=old.get_password_func,
            connection_class=DeadlineConnection,
            kwargs=kwargs,
            min_size=old.min_size,
            max_size=old.max_size,
            open=False,
            configure=datastore.after_connect_func(),
            timeout=old.timeout,
            max_waiting=old.max_waiting,
            max_lifetime=old.max_lifetime,
            check=ConnectionPool.check_connection if datastore.pre_ping else None,
        )
