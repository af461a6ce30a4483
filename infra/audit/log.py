"""Reading the notification log beside its chain, page by page, in position order.

A page is one read transaction, so a record and its chain hash are seen
together; a position with only one of them (a removed record, an inserted one)
comes back with the other half missing, for the verifier to name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification
from psycopg.sql import SQL, Identifier

from infra.audit.chain import GENESIS
from infra.audit.pg_chain import ChainedPostgresRecorder
from infra.audit.sqlite_chain import ChainedSQLiteRecorder

LAST = 2**63 - 1

_PAGE = """
SELECT e.{id} AS position, e.originator_id, e.originator_version, e.topic, e.state, c.chain_hash
FROM {table} AS e LEFT JOIN {chain} AS c ON c.position = e.{id}
WHERE e.{id} > {p} AND e.{id} <= {p} {only}
UNION ALL
SELECT c.position, NULL, NULL, NULL, NULL, c.chain_hash FROM {chain} AS c
WHERE c.position > {p} AND c.position <= {p} {chain_only}
    AND NOT EXISTS (SELECT 1 FROM {table} AS e WHERE e.{id} = c.position)
ORDER BY position LIMIT {p}
"""
_HEAD = "SELECT position, chain_hash FROM {chain} ORDER BY position DESC LIMIT 1"
_BEFORE = "SELECT chain_hash FROM {chain} WHERE position <= {p} ORDER BY position DESC LIMIT 1"
_MAX = "SELECT max(e.{id}) FROM {table} AS e"


@dataclass(frozen=True)
class ChainedRecord:
    """One position of the log: its record and its chain hash, either possibly missing."""

    position: int
    record: Notification | None
    chain_hash: bytes | None


class ChainLog:
    """The chained log of one recorder (SQLite or PostgreSQL)."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.recorder = recorder
        if isinstance(recorder, ChainedSQLiteRecorder):
            self._sqlite = True
            names = {"table": recorder.events_table_name, "chain": recorder.chain_table_name}
            self._names = {**names, "id": "rowid", "p": "?"}
        elif isinstance(recorder, ChainedPostgresRecorder):
            self._sqlite = False
            schema = recorder.datastore.schema
            self._names = {
                "table": f"{_quote(schema)}.{_quote(recorder.events_table_name)}",
                "chain": f"{_quote(schema)}.{_quote(recorder.chain_table_name)}",
                "id": "notification_id",
                "p": "%s",
            }
        else:
            raise TypeError(f"{type(recorder).__name__} keeps no hash chain")

    def page(
        self, after: int, limit: int, upto: int = LAST, aggregate_id: UUID | None = None
    ) -> list[ChainedRecord]:
        """Up to `limit` positions after `after` (and at most `upto`), in order."""
        p = self._names["p"]
        only = f"AND e.originator_id = {p}" if aggregate_id else ""
        chain_only = "AND FALSE" if aggregate_id else ""
        statement = _PAGE.format(**self._names, only=only, chain_only=chain_only)
        params: list[Any] = [after, upto]
        if aggregate_id:
            params.append(aggregate_id.hex if self._sqlite else aggregate_id)
        params += [after, upto, limit]
        return [_record(row) for row in self._rows(statement, params)]

    def head(self) -> tuple[int, bytes] | None:
        """The last chained position and its hash."""
        rows = self._rows(_HEAD.format(**self._names), [])
        return (rows[0][0], bytes(rows[0][1])) if rows else None

    def hash_at_or_before(self, position: int) -> bytes:
        """The chain hash a record after `position` follows (the genesis before any)."""
        rows = self._rows(_BEFORE.format(**self._names), [position])
        return bytes(rows[0][0]) if rows else GENESIS

    def last_position(self) -> int:
        """The highest position holding a record or a chain hash."""
        found = self.head()
        rows = self._rows(_MAX.format(**self._names), [])
        return max(found[0] if found else 0, rows[0][0] or 0)

    def _rows(self, statement: str, params: list[Any]) -> list[Any]:
        recorder = self.recorder
        if isinstance(recorder, ChainedSQLiteRecorder):
            with recorder.datastore.transaction(commit=False) as cursor:
                cursor.execute(statement, params)
                return list(cursor.fetchall())
        assert isinstance(recorder, ChainedPostgresRecorder)
        query = SQL(statement)  # names quoted above, values bound
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(query, params)
            return [tuple(row.values()) for row in cursor.fetchall()]


def _quote(name: str) -> str:
    return Identifier(name).as_string(None)


def _record(row: Any) -> ChainedRecord:
    position, originator_id, version, topic, state, chain_hash = tuple(row)
    record = None
    if originator_id is not None:
        aggregate_id = originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
        record = Notification(
            id=position,
            originator_id=aggregate_id,
            originator_version=version,
            topic=topic,
            state=bytes(state),
        )
    return ChainedRecord(position, record, bytes(chain_hash) if chain_hash is not None else None)
