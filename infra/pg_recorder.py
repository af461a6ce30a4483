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

Group commit: the lock is held through the commit's WAL flush, so saves would
queue one flush each. Saves that arrive while one is in flight wait and then go
together in the next call, one transaction and one flush for all of them, each
in its own subtransaction: a save that fails for any reason (a unique violation
when a concurrent writer took its version, a value the column refuses, …) fails
alone, with the library's exception for its SQLSTATE (IntegrityError,
DataError, …, mapped as the library's own recorder maps psycopg's), and the
others commit. A failed save has drawn notification ids that are never used:
positions strictly rise, with gaps. A waiting save holds no connection.

Each save extends the hash chain (infra/audit/pg_chain.py) in its own
subtransaction, in notification-id order, so a failed save leaves no link.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
import psycopg.errors
from eventsourcing.persistence import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

from commands.base import StaleCopy
from commands.keeping import KeyAnswered, KeyedAnswer
from infra.audit.pg_chain import ChainedPostgresRecorder
from infra.idempotency import command_keys

MAX_GROUP = 64  # saves per call at most
STALE_COPY = "SW001"  # the SQLSTATE of a save refused by its guards
KEY_ANSWERED = "SW002"  # the SQLSTATE of a save whose Idempotency-Key was answered first
# The group insert's arguments after the events.
ARGUMENT_TYPES = (
    *("int[]", "int[]", "uuid[]", "int[]"),  # saves, guards
    *("int[]", "text[]", "text[]", "text[]", "int[]", "bytea[]", "bytea[]", "text[]"),
    "timestamptz[]",  # Idempotency-Key answers
)

FUNCTION = """
CREATE OR REPLACE FUNCTION {schema}.{function}(
    events {schema}.{event}[], saves int[],
    guard_saves int[], guard_ids uuid[], guard_versions int[],
    answer_saves int[], answer_scopes text[], answer_keys text[], answer_fingerprints text[],
    answer_statuses int[], answer_bodies bytea[], answer_headers bytea[], answer_marks text[],
    answer_expiries timestamptz[]
)
RETURNS TABLE (save_index int, new_id bigint, error_code text, error_message text)
LANGUAGE plpgsql AS $BODY$
DECLARE
    ids bigint[];
    a int;
    last text;
    kept int;
BEGIN
    SET LOCAL lock_timeout = '{lock_timeout}s';
    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;
    NOTIFY {channel};
    FOR save_index IN SELECT DISTINCT s FROM unnest(saves) AS s ORDER BY s LOOP
        BEGIN
            -- The aggregates the save's decision read from a cache without changing them:
            -- under the table lock, a newer event of any of them refuses the save alone.
            IF EXISTS (
                SELECT 1 FROM unnest(guard_saves, guard_ids, guard_versions) AS g(s, id, v)
                JOIN {schema}.{table} AS e
                    ON e.originator_id = g.id AND e.originator_version > g.v
                WHERE g.s = save_index
            ) THEN
                RAISE EXCEPTION 'a cached copy missed an event' USING ERRCODE = '{stale}';
            END IF;
            WITH inserted AS (
                INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)
                SELECT e.originator_id, e.originator_version, e.topic, e.state
                FROM unnest(events) WITH ORDINALITY
                    AS e(originator_id, originator_version, topic, state, n)
                WHERE saves[e.n] = save_index
                ORDER BY e.n
                RETURNING notification_id
            )
            SELECT array_agg(i.notification_id ORDER BY i.notification_id) INTO ids
            FROM inserted AS i;
            PERFORM {schema}.{chain_function}(ids);
            -- An Idempotency-Key's answer, kept in the events' own transaction: the mark
            -- stands for the save's position (its last notification id).
            a := array_position(answer_saves, save_index);
            IF a IS NOT NULL AND answer_statuses[a] IS NULL THEN  -- a guard: still unanswered?
                IF EXISTS (
                    SELECT 1 FROM {schema}.{keys} AS k
                    WHERE k.scope = answer_scopes[a] AND k.key = answer_keys[a]
                        AND k.status IS NOT NULL AND k.expires_at > now()
                ) THEN
                    RAISE EXCEPTION 'the Idempotency-Key was answered first'
                        USING ERRCODE = '{answered}';
                END IF;
            ELSIF a IS NOT NULL THEN
                last := ids[array_upper(ids, 1)]::text;
                INSERT INTO {schema}.{keys} AS k (
                    scope, key, fingerprint, status, body, headers,
                    lease_until, expires_at, takeovers
                ) VALUES (
                    answer_scopes[a], answer_keys[a], answer_fingerprints[a], answer_statuses[a],
                    convert_to(replace(
                        convert_from(answer_bodies[a], 'UTF8'), answer_marks[a], last), 'UTF8'),
                    convert_to(replace(
                        convert_from(answer_headers[a], 'UTF8'), answer_marks[a], last), 'UTF8'),
                    now(), answer_expiries[a], 0
                )
                ON CONFLICT (scope, key) DO UPDATE
                    SET fingerprint = EXCLUDED.fingerprint, status = EXCLUDED.status,
                        body = EXCLUDED.body, headers = EXCLUDED.headers,
                        expires_at = EXCLUDED.expires_at
                    -- an older release's lease is filled in, an expired answer replaced
                    WHERE k.status IS NULL OR k.expires_at <= now();
                GET DIAGNOSTICS kept = ROW_COUNT;
                IF kept = 0 THEN  -- answered first by another request: this save fails
                    RAISE EXCEPTION 'the Idempotency-Key was answered first'
                        USING ERRCODE = '{answered}';
                END IF;
            END IF;
            FOREACH new_id IN ARRAY ids LOOP
                RETURN NEXT;
            END LOOP;
        EXCEPTION WHEN OTHERS THEN  -- this save alone rolls back; the others go on
            new_id := NULL;
            GET STACKED DIAGNOSTICS error_code = RETURNED_SQLSTATE, error_message = MESSAGE_TEXT;
            RETURN NEXT;
        END;
        error_code := NULL;
        error_message := NULL;
    END LOOP;
END;
$BODY$
"""


@dataclass
class Pending:
    """One save waiting for its group's call."""

    rows: list[Any]
    guards: Sequence[tuple[Any, int]] = ()  # (aggregate id, version read) it decided on
    answer: KeyedAnswer | None = None  # an Idempotency-Key's answer, kept with the events
    done: threading.Event = field(default_factory=threading.Event)
    ids: list[int] = field(default_factory=list)
    error: Exception | None = None
    leads: bool = False  # woken to make the next call for the saves that queued meanwhile


class LockedInsertRecorder(ChainedPostgresRecorder):
    """Inserts saves in one server-side statement that holds the table lock."""

    # A save may carry `guards`: (aggregate id, version) pairs it decided on without
    # changing them (commands/cache.py); they are checked in the save's own subtransaction.
    checks_guards = True
    # A save may carry `answer`: an Idempotency-Key's answer (commands/keeping.py), written
    # into infra.idempotency's table in the save's own subtransaction.
    keeps_answers = True

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        # v4 keeps Idempotency-Key answers; v3 checks each save's guards; v2 returned each
        # failed save's SQLSTATE. A new name
        # each time, as CREATE OR REPLACE cannot change a function's signature or result type
        # (older versions stay in older stores, unused).
        self.locked_insert_function = f"slotwise_group_insert_v4_{self.events_table_name}"
        self.check_identifier_length(self.locked_insert_function)
        names = {
            "schema": Identifier(self.datastore.schema),
            "table": Identifier(self.events_table_name),
            "function": Identifier(self.locked_insert_function),
            "event": Identifier(self.stored_event_type_name),
            "channel": Identifier(self.channel_name),
            "chain_function": Identifier(self.chain_function),
            "keys": Identifier(command_keys.name),
        }
        create = SQL(FUNCTION).format(
            lock_timeout=self.datastore.lock_timeout,
            stale=SQL(STALE_COPY),
            answered=SQL(KEY_ANSWERED),
            **names,
        )
        self.sql_create_statements.append(create)
        # Typed: a list of NULLs alone (guards have no status) says nothing of its type.
        arguments = ", ".join(f"%s::{kind}" for kind in ARGUMENT_TYPES)
        self.call_locked_insert = SQL(
            "SELECT * FROM {schema}.{function}(%s, " + arguments + ")"
        ).format(**names)
        self._queue: list[Pending] = []
        self._queue_lock = threading.Lock()
        self._calling = False  # a thread is making the call (or about to)

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
        mine = Pending(rows, tuple(kwargs.get("guards", ())), kwargs.get("answer"))
        with self._queue_lock:
            self._queue.append(mine)
            mine.leads = not self._calling
            self._calling = True
        if not mine.leads:
            mine.done.wait()
        if mine.leads:  # first in the queue: call for it and whoever queued behind it
            self._call_for_group()
        mine.done.wait()
        if mine.error is not None:
            raise mine.error
        return mine.ids

    def _call_for_group(self) -> None:
        with self._queue_lock:
            group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
        try:
            self._insert_group(group)
        except Exception as error:  # the whole call failed: every save in it hears why
            for pending in group:
                pending.error = error
        with self._queue_lock:
            if self._queue:  # hand the next call to the first save that queued meanwhile
                self._queue[0].leads = True
                self._queue[0].done.set()
            else:
                self._calling = False
        for pending in group:
            pending.leads = False
            pending.done.set()

    def _insert_group(self, group: list[Pending]) -> None:
        events = [row for pending in group for row in pending.rows]
        saves = [n for n, pending in enumerate(group) for _ in pending.rows]
        guards = [(n, i, v) for n, pending in enumerate(group) for i, v in pending.guards]
        arguments = (
            events,
            saves,
            [n for n, _, _ in guards],
            [i for _, i, _ in guards],
            [v for _, _, v in guards],
            *answer_arrays(group),
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            assert conn.autocommit  # the server commits right after the statement
            curs.execute(self.call_locked_insert, arguments, prepare=True)
            for row in curs.fetchall():
                pending = group[row["save_index"]]
                if row["new_id"] is None:
                    pending.error = save_error(row["error_code"], row["error_message"])
                else:
                    pending.ids.append(row["new_id"])


# psycopg's exception classes (by SQLSTATE) -> the library's, as eventsourcing.postgres maps them.
MAPPED: tuple[tuple[type[psycopg.Error], type[PersistenceError]], ...] = (
    (psycopg.InterfaceError, InterfaceError),
    (psycopg.OperationalError, OperationalError),
    (psycopg.DataError, DataError),
    (psycopg.IntegrityError, IntegrityError),
    (psycopg.InternalError, InternalError),
    (psycopg.ProgrammingError, ProgrammingError),
    (psycopg.NotSupportedError, NotSupportedError),
    (psycopg.DatabaseError, DatabaseError),
)


def answer_arrays(group: list[Pending]) -> list[list[Any]]:
    """The answers' columns, one array each, as the group insert takes them."""
    kept = [(n, p.answer) for n, p in enumerate(group) if p.answer is not None]
    return [
        [n for n, _ in kept],
        [a.scope for _, a in kept],
        [a.key for _, a in kept],
        [a.fingerprint for _, a in kept],
        [a.status for _, a in kept],
        [a.body for _, a in kept],
        [a.headers for _, a in kept],
        [a.mark for _, a in kept],
        [a.expires_at for _, a in kept],
    ]


def save_error(sqlstate: str | None, message: str | None) -> Exception:
    """The library's exception for one save that failed inside the group's call (or, when a
    guard refused it, the command side's signal to decide again on fresh state)."""
    detail = f"{message or 'the save failed'} (SQLSTATE {sqlstate})"
    if sqlstate == STALE_COPY:
        return StaleCopy(detail)
    if sqlstate == KEY_ANSWERED:
        return KeyAnswered(detail)
    try:
        found: type[psycopg.Error] = psycopg.errors.lookup(sqlstate or "")
    except KeyError:
        return DatabaseError(detail)
    for psycopg_class, library_class in MAPPED:
        if issubclass(found, psycopg_class):
            return library_class(detail)
    return PersistenceError(detail)
