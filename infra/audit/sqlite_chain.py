"""The hash chain on SQLite: the library's recorder, extending the chain under the writer lock.

The events are inserted first: that takes SQLite's write lock for the rest of
the transaction, so the head read next is the previous record's even when
another process shares the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import PersistenceError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from commands.keeping import KeyAnswered, KeyedAnswer
from infra.audit.chain import GENESIS, link
from infra.idempotency import command_keys

KEYS_TABLE = command_keys.name


def sqlite_time(moment: datetime) -> str:
    """A UTC time as SQLAlchemy's DateTime stores it on SQLite (what the key store reads)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


MIGRATION_PAGE = 2000


class ChainReused(PersistenceError):
    """A new record landed on a position the chain already covers: a record was deleted."""


class ChainedSQLiteRecorder(SQLiteApplicationRecorder):
    """Writes each record's chain hash in the transaction that inserts it."""

    # A save may carry `answer`: an Idempotency-Key's answer (commands/keeping.py), written
    # into infra.idempotency's table (same file) in the events' transaction.
    keeps_answers = True

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        self.chain_table_name = f"{events_table_name}_chain"
        super().__init__(datastore, events_table_name)
        self.select_head = (
            f"SELECT chain_hash FROM {self.chain_table_name} WHERE position < ? "
            "ORDER BY position DESC LIMIT 1"
        )
        self.insert_chain = f"INSERT INTO {self.chain_table_name} VALUES (?, ?)"
        self.keep_answer = (
            f"INSERT INTO {KEYS_TABLE} AS k (scope, key, fingerprint, status, body, headers, "
            "lease_until, expires_at, takeovers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0) "
            "ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint, "
            "status = excluded.status, body = excluded.body, headers = excluded.headers, "
            "expires_at = excluded.expires_at "
            # an older release's lease is filled in, an expired answer replaced
            "WHERE k.status IS NULL OR k.expires_at <= excluded.lease_until"
        )
        self.key_answered = (
            f"SELECT 1 FROM {KEYS_TABLE} WHERE scope = ? AND key = ? "
            "AND status IS NOT NULL AND expires_at > ?"
        )

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
        answer: KeyedAnswer | None = kwargs.get("answer")
        if answer is not None:
            self._keep(c, answer, ids[-1])
        return ids

    def _keep(self, c: SQLiteCursor, answer: KeyedAnswer, position: int) -> None:
        """The key's answer with the save's position, or KeyAnswered (the transaction rolls
        back) when another request's answer was kept first."""
        now = datetime.now(UTC)
        if answer.status is None:  # a guard: the save fails if the key was answered
            c.execute(self.key_answered, (answer.scope, answer.key, sqlite_time(now)))
            if c.fetchone() is not None:
                raise KeyAnswered("the Idempotency-Key was answered first")
            return
        body, headers = answer.filled(position)
        c.execute(
            self.keep_answer,
            (
                answer.scope,
                answer.key,
                answer.fingerprint,
                answer.status,
                body,
                headers,
                sqlite_time(now),
                sqlite_time(answer.expires_at or now),
            ),
        )
        if c.sqlite_cursor.rowcount != 1:
            raise KeyAnswered("the Idempotency-Key was answered first")

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
