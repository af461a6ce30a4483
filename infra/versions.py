"""Whether cached aggregates missed events: one indexed query for a command's whole read set.

The command side checks every aggregate it was served from its cache and will not
save (commands/cache.py). Asked per aggregate through the recorder that is one
round trip each; these adapters ask for all of them at once, on the primary key
(originator_id, originator_version).
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder

VersionsChecker = Callable[[list[tuple[UUID, int]]], bool]


def versions_checker(recorder: ApplicationRecorder) -> VersionsChecker | None:
    """The one-query check for `recorder`'s store, or None to ask the recorder per aggregate."""
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    if isinstance(recorder, SQLiteApplicationRecorder):
        return _sqlite_checker(recorder)
    try:
        from eventsourcing.postgres import PostgresApplicationRecorder
    except ImportError:  # the postgres extra is not installed
        return None
    if isinstance(recorder, PostgresApplicationRecorder):
        return _postgres_checker(recorder)
    return None


def _sqlite_checker(recorder: ApplicationRecorder) -> VersionsChecker:
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    assert isinstance(recorder, SQLiteApplicationRecorder)
    table = recorder.events_table_name

    def newer(versions: list[tuple[UUID, int]]) -> bool:
        where = " OR ".join(["(originator_id=? AND originator_version>?)"] * len(versions))
        args = [x for aggregate_id, v in versions for x in (aggregate_id.hex, v)]
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT 1 FROM {table} WHERE {where} LIMIT 1", args)
            return cursor.fetchone() is not None

    return newer


def _postgres_checker(recorder: ApplicationRecorder) -> VersionsChecker:
    from eventsourcing.postgres import PostgresApplicationRecorder
    from psycopg.sql import SQL, Identifier

    assert isinstance(recorder, PostgresApplicationRecorder)
    query = SQL(
        "SELECT 1 FROM unnest(%s::uuid[], %s::int[]) AS c(id, v) "
        "WHERE EXISTS (SELECT 1 FROM {}.{} AS e "
        "WHERE e.originator_id = c.id AND e.originator_version > c.v) LIMIT 1"
    ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))

    def newer(versions: list[tuple[UUID, int]]) -> bool:
        ids, numbers = [a for a, _ in versions], [v for _, v in versions]
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(query, [ids, numbers], prepare=True)
            return cursor.fetchone() is not None

    return newer
