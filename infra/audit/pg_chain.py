"""The hash chain on PostgreSQL: its table, the function that extends it, the library-path recorder.

`{events}_chain(position, chain_hash)` holds one row per notification-log
record. The function below extends the chain over the records just inserted;
it runs in the inserting transaction while the events table's EXCLUSIVE lock is
held (by the library's recorder or by infra/pg_recorder.py's locked insert), so
no other writer can draw ids or move the head until the commit, and the head it
reads is the previous record's. In the locked insert each save calls it inside
its own subtransaction, so a save that fails leaves the chain as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from infra.audit.chain import GENESIS, link

CHAIN_TABLE = """
CREATE TABLE IF NOT EXISTS {schema}.{chain} (
    position bigint PRIMARY KEY,
    chain_hash bytea NOT NULL
)
"""

# The canonical bytes of infra/audit/chain.py, written in SQL.
CHAIN_FUNCTION = """
CREATE OR REPLACE FUNCTION {schema}.{function}(ids bigint[])
RETURNS void LANGUAGE plpgsql AS $BODY$
DECLARE
    head bytea;
    rec record;
    positions bigint[] := '{{}}';
    hashes bytea[] := '{{}}';
BEGIN
    SELECT c.chain_hash INTO head FROM {schema}.{chain} AS c ORDER BY c.position DESC LIMIT 1;
    head := coalesce(head, '\\x{genesis}'::bytea);
    FOR rec IN
        SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state
        FROM {schema}.{table} AS e WHERE e.notification_id = ANY(ids) ORDER BY e.notification_id
    LOOP
        head := sha256(
            head || int8send(rec.notification_id) || uuid_send(rec.originator_id)
            || int8send(rec.originator_version::bigint)
            || int4send(octet_length(convert_to(rec.topic, 'UTF8')))
            || convert_to(rec.topic, 'UTF8') || rec.state
        );
        positions := positions || rec.notification_id;
        hashes := hashes || head;
    END LOOP;
    INSERT INTO {schema}.{chain} (position, chain_hash) SELECT * FROM unnest(positions, hashes);
END;
$BODY$
"""

MIGRATION_PAGE = 2000


class ChainedPostgresRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder, extending the hash chain in each insert's transaction."""

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.chain_table_name = f"{self.events_table_name}_chain"
        self.chain_function = f"slotwise_chain_{self.events_table_name}"
        self.check_identifier_length(self.chain_function)
        self.chain_names = {
            "schema": Identifier(self.datastore.schema),
            "table": Identifier(self.events_table_name),
            "chain": Identifier(self.chain_table_name),
            "function": Identifier(self.chain_function),
        }
        self.sql_create_statements.append(SQL(CHAIN_TABLE).format(**self.chain_names))
        function = SQL(CHAIN_FUNCTION).format(genesis=SQL(GENESIS.hex()), **self.chain_names)
        self.sql_create_statements.append(function)
        self.call_chain: Composed = SQL("SELECT {schema}.{function}(%s)").format(**self.chain_names)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        curs.execute(self.call_chain, (list(ids or ()),))  # still inside the locked transaction
        return ids

    def create_table(self) -> None:
        super().create_table()
        self.migrate_chain()

    def migrate_chain(self) -> int:
        """Chain a store written before the chain existed (once: while the chain is empty)."""
        names = self.chain_names
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE").format(**names))
            curs.execute(SQL("SELECT 1 FROM {schema}.{chain} LIMIT 1").format(**names))
            if curs.fetchone() is not None:
                return 0
            select = SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state "
                "FROM {schema}.{table} WHERE notification_id > %s "
                "ORDER BY notification_id LIMIT %s"
            ).format(**names)
            insert = SQL(
                "INSERT INTO {schema}.{chain} (position, chain_hash) VALUES (%s, %s)"
            ).format(**names)
            head, after, done = GENESIS, 0, 0
            while True:
                curs.execute(select, (after, MIGRATION_PAGE))
                rows = curs.fetchall()
                if not rows:
                    return done
                chained = []
                for row in rows:
                    head = link(
                        head,
                        row["notification_id"],
                        row["originator_id"],
                        row["originator_version"],
                        row["topic"],
                        bytes(row["state"]),
                    )
                    chained.append((row["notification_id"], head))
                curs.executemany(insert, chained)
                after, done = rows[-1]["notification_id"], done + len(rows)
