"""The hash chain on SQLite: the library's recorder, extending the chain under the writer lock.

The events are inserted first: that takes SQLite's write lock for the rest of
the transaction, so the head read next is the previous record's even when
another process shares the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import PersistenceError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from infra.audit.chain import GENESIS, link

MIGRATION_PAGE = 2000


class ChainReused(PersistenceError):
    """A new record landed on a position the chain already covers: a record was deleted."""


class ChainedSQLiteRecorder(SQLiteApplicationRecorder):
    """Writes each record's chain hash in the transaction that inserts it."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        self.chain_table_name = f"{events_table_name}_chain"
        super().__init__(datastore, events_table_name)
        self.select_head = (
            f"SELECT chain_hash FROM {self.chain_table_name} WHERE position < ? "
            "ORDER BY position DESC LIMIT 1"
        )
        self.insert_chain = f"INSERT INTO {self.chain_table_name} VALUES (?, ?)"

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {self.chain_table_name} "
            "(position INTEGER PRIMARY KEY, chain_hash BLOB NOT NULL)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if not ids:
            return ids
        c.execute(self.select_head, (ids[0],))
        found = c.fetchone()
        head = bytes(found[0]) if found else GENESIS
        rows = []
        for position, event in zip(ids, stored_events, strict=True):
            aggregate_id = UUID(str(event.originator_id))
            head = link(
                head, position, aggregate_id, event.originator_version, event.topic, event.state
            )
            rows.append((position, head))
        try:
            c.executemany(self.insert_chain, rows)
        except sqlite3.IntegrityError:
            # SQLite reuses the rowid of a deleted last record: never paper over it.
            raise ChainReused(
                f"position {ids[0]} is already chained: the log was altered "
                "(run slotwise audit verify)"
            ) from None
        return ids

    def create_table(self) -> None:
        super().create_table()
        self.migrate_chain()

    def migrate_chain(self) -> int:
        """Chain a store written before the chain existed (once: while the chain is empty)."""
        table, chain = self.events_table_name, self.chain_table_name
        with self.datastore.transaction(commit=True) as c:
            # A write first takes the file's write lock: two processes starting at once
            # cannot both find the chain empty.
            c.execute(f"DELETE FROM {chain} WHERE 0")
            c.execute(f"SELECT 1 FROM {chain} LIMIT 1")
            if c.fetchone() is not None:
                return 0
            head, after, done = GENESIS, 0, 0
            while True:
                c.execute(
                    f"SELECT rowid, * FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                    (after, MIGRATION_PAGE),
                )
                rows = c.fetchall()
                if not rows:
                    return done
                chained = []
                for row in rows:
                    aggregate_id = UUID(row["originator_id"])
                    version, topic, state = row["originator_version"], row["topic"], row["state"]
                    head = link(head, row["rowid"], aggregate_id, version, topic, bytes(state))
                    chained.append((row["rowid"], head))
                c.executemany(self.insert_chain, chained)
                after, done = rows[-1]["rowid"], done + len(rows)
