"""Reading one aggregate's history with its global positions (the audit view).

The recorders' `select_events` leaves out notification ids, so this asks each
recorder's table for them directly (SQLite keeps them as rowid).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier


def aggregate_history(recorder: ApplicationRecorder, aggregate_id: UUID) -> list[Notification]:
    """Every event of one aggregate, oldest first, with its notification id."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _sqlite_history(recorder, aggregate_id)
    if isinstance(recorder, PostgresApplicationRecorder):
        return _postgres_history(recorder, aggregate_id)
    raise TypeError(f"no history query for {type(recorder).__name__}")


def _sqlite_history(recorder: SQLiteApplicationRecorder, aggregate_id: UUID) -> list[Notification]:
    statement = (
        f"SELECT rowid, * FROM {recorder.events_table_name} "
        "WHERE originator_id=? ORDER BY originator_version"
    )
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(statement, [aggregate_id.hex])
        return _notifications(cursor.fetchall(), "rowid", UUID)


def _postgres_history(
    recorder: PostgresApplicationRecorder, aggregate_id: UUID
) -> list[Notification]:
    statement = SQL("SELECT * FROM {}.{} WHERE originator_id = %s ORDER BY originator_version")
    query = statement.format(
        Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)
    )
    with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
        cursor.execute(query, [aggregate_id])
        return _notifications(cursor.fetchall(), "notification_id", lambda v: v)


def _notifications(rows: Sequence[Any], id_column: str, to_id: Any) -> list[Notification]:
    return [
        Notification(
            id=row[id_column],
            originator_id=to_id(row["originator_id"]),
            originator_version=row["originator_version"],
            topic=row["topic"],
            state=bytes(row["state"]),
        )
        for row in rows
    ]
