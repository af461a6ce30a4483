"""The PostgreSQL application recorder with the events-table lock held by the server alone.

The library's recorder takes `LOCK TABLE … IN EXCLUSIVE MODE` in a client-side
transaction and holds it across several round trips (BEGIN, lock + insert,
sync, COMMIT), each waiting for a Python thread to get the GIL back. Here one
plpgsql function, created with the table, locks, inserts every event of the
save, notifies and returns the notification ids; it is called in autocommit
mode, so the server commits as soon as the statement ends and the lock lives
only while the server runs it. Holding the lock from before the ids are drawn
until the commit keeps commit order equal to notification-id order, so a
follower never passes over an id that commits later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier


class LockedInsertRecorder(PostgresApplicationRecorder):
    """Inserts a save's events in one server-side statement that holds the table lock."""

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.locked_insert_function = f"slotwise_locked_insert_{self.events_table_name}"
        self.check_identifier_length(self.locked_insert_function)
        names = {
            "schema": Identifier(self.datastore.schema),
            "table": Identifier(self.events_table_name),
            "function": Identifier(self.locked_insert_function),
            "event": Identifier(self.stored_event_type_name),
            "channel": Identifier(self.channel_name),
        }
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}(events {schema}.{event}[]) "
                "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ "
                "BEGIN "
                "SET LOCAL lock_timeout = '{lock_timeout}s'; "
                "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
                "NOTIFY {channel}; "
                "RETURN QUERY INSERT INTO {schema}.{table} "
                "(originator_id, originator_version, topic, state) "
                "SELECT originator_id, originator_version, topic, state FROM unnest(events) "
                "RETURNING notification_id; "
                "END; $BODY$"
            ).format(lock_timeout=self.datastore.lock_timeout, **names)
        )
        self.call_locked_insert = SQL("SELECT * FROM {schema}.{function}(%s)").format(**names)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if kwargs.get("tracking") is not None:  # a process recorder's save: the library's way
            found: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return found
        if not stored_events:
            return []
        rows = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        # A unique violation (a concurrent writer took a version) comes out of
        # get_connection as the library's IntegrityError, as with the stock recorder.
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            assert conn.autocommit  # the server commits right after the statement
            curs.execute(self.call_locked_insert, (rows,), prepare=True)
            ids: list[int] = [row[self.locked_insert_function] for row in curs.fetchall()]
        return ids
