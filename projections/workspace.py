"""The read-model rows one batch of events reads and writes, held in memory.

A projector folds a batch of envelopes into a `Workspace`: rows keyed by the
batch's aggregates are loaded with one query per table, every change happens
on those dicts, counters (per business and day) collect deltas, and `flush`
writes what changed with multi-row upserts (`INSERT … ON CONFLICT DO UPDATE`,
SQLite and PostgreSQL) and one `DELETE … IN` per table. The live path is a
batch of one through the same code, so a rebuild and the live path agree by
construction.

A change to a missing row does nothing, as an `UPDATE` matching no row would;
`one` of a missing row and `insert` of an existing one raise, as the SQL would.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Insert,
    Integer,
    Select,
    Table,
    bindparam,
    delete,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect

Key = tuple[Any, ...]
Row = dict[str, Any]
CHUNK = 500  # rows per statement: well inside SQLite's and PostgreSQL's bind-parameter limits


class MissingRow(LookupError):
    """An event needs a row its aggregate's earlier events should have made."""


class DuplicateRow(ValueError):
    """An event creates a row that exists already."""


@cache
def key_columns(table: Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.primary_key.columns)


class Workspace:
    """Rows of several tables, loaded in bulk, changed in memory, written back in bulk."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._rows: dict[Table, dict[Key, Row | None]] = {}
        self._dirty: dict[Table, set[Key]] = {}
        self._sums: dict[Table, dict[Key, dict[str, Any]]] = {}

    # -- reading --------------------------------------------------------------------

    def load(self, table: Table, keys: Iterable[Key]) -> None:
        """Fetch the rows of `keys` not known yet, one query per chunk."""
        known = self._rows.setdefault(table, {})
        wanted = list(dict.fromkeys(k for k in keys if k not in known))
        names = key_columns(table)
        query = rows_of(table)
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            known.update(dict.fromkeys(chunk))
            if len(chunk) == 1:  # a live pass's usual load: no list to expand into the SQL
                key = chunk[0]
                params = dict(zip(KEY_PARAMS[: len(key)], key, strict=True))
                found_rows = self.conn.execute(row_of(table), params)
            else:
                keys = [k[0] for k in chunk] if len(names) == 1 else chunk
                found_rows = self.conn.execute(query, {"keys": keys})
            for found in found_rows.mappings():
                row = dict(found)
                known[tuple(row[n] for n in names)] = row

    def get(self, table: Table, *key: Any) -> Row | None:
        if key not in self._rows.get(table, {}):
            self.load(table, [key])
        return self._rows[table][key]

    def one(self, table: Table, *key: Any) -> Row:
        row = self.get(table, *key)
        if row is None:
            raise MissingRow(f"no {table.name} row {key!r}")
        return row

    # -- writing --------------------------------------------------------------------

    def insert(self, table: Table, **row: Any) -> None:
        key = tuple(row[n] for n in key_columns(table))
        if self.get(table, *key) is not None:
            raise DuplicateRow(f"{table.name} row {key!r} exists already")
        self.put(table, **row)

    def put(self, table: Table, **row: Any) -> None:
        """Create or replace a whole row."""
        key = tuple(row[n] for n in key_columns(table))
        self._rows.setdefault(table, {})[key] = row
        self._dirty.setdefault(table, set()).add(key)

    def change(self, table: Table, key: Key, **values: Any) -> None:
        """Change some columns of a row; nothing if it does not exist."""
        row = self.get(table, *key)
        if row is not None:
            row.update(values)
            self._dirty.setdefault(table, set()).add(key)

    def delete(self, table: Table, *key: Any) -> None:
        self._rows.setdefault(table, {})[key] = None
        self._dirty.setdefault(table, set()).add(key)

    def add(self, table: Table, key: Key, **deltas: int | Decimal) -> None:
        """Add to counters (integers, or decimals kept as text); the row is made if missing."""
        sums = self._sums.setdefault(table, {}).setdefault(key, {})
        for name, delta in deltas.items():
            sums[name] = sums.get(name, 0) + delta

    def flush(self) -> None:
        """Write every change: counters folded into their rows, then upserts and deletes."""
        for table, sums in self._sums.items():
            self._fold(table, sums)
        self._sums = {}
        for table, keys in self._dirty.items():
            final = [(k, self._rows[table][k]) for k in keys]
            self._write(table, [row for _, row in final if row is not None])
            self._delete(table, [k for k, row in final if row is None])
        self._dirty = {}

    def _fold(self, table: Table, sums: dict[Key, dict[str, Any]]) -> None:
        self.load(table, sums)
        names = key_columns(table)
        counters = [c for c in table.columns if c.name not in names]
        rows = self._rows[table]
        for key, deltas in sums.items():
            row = rows[key]
            if row is None:
                row = dict(zip(names, key, strict=True))
                row.update({c.name: 0 if isinstance(c.type, Integer) else "0" for c in counters})
            for name, delta in deltas.items():
                current = row[name]
                row[name] = (
                    current + delta if isinstance(current, int) else str(Decimal(current) + delta)
                )
            self.put(table, **row)

    def _write(self, table: Table, rows: Sequence[Row]) -> None:
        if not rows:
            return
        if self.conn.dialect.name == "postgresql":
            # All rows in one statement: one array per column, unnested server-side.
            dialect = self.conn.dialect
            columns = [
                [process(row[name]) for row in rows] if process else [row[name] for row in rows]
                for name, process in bind_processors(table, dialect)
            ]
            self.conn.exec_driver_sql(unnest_upsert(table, dialect), tuple(columns))
            return
        # One statement compiled once for many rows; SQLite runs executemany in C.
        statement, binds = compiled_upsert(table, self.conn.dialect)
        values = [
            tuple(process(row[name]) if process else row[name] for name, process in binds)
            for row in rows
        ]
        self.conn.exec_driver_sql(statement, values)

    def _delete(self, table: Table, keys: Sequence[Key]) -> None:
        names = key_columns(table)
        columns = [table.c[n] for n in names]
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            if len(columns) == 1:
                where = columns[0].in_([k[0] for k in chunk])
            else:
                where = tuple_(*columns).in_(chunk)
            self.conn.execute(delete(table).where(where))


@cache
def rows_of(table: Table) -> Select[Any]:
    """The rows of `table` whose keys are in the bound list `keys`, built once per table
    (building the statement cost more than running it, for the few rows of a live pass)."""
    columns = [table.c[n] for n in key_columns(table)]
    key = columns[0] if len(columns) == 1 else tuple_(*columns)
    return select(table).where(key.in_(bindparam("keys", expanding=True)))


KEY_PARAMS = tuple(f"key_{i}" for i in range(8))


@cache
def row_of(table: Table) -> Select[Any]:
    """The row of `table` whose key columns equal the bound `key_0`, `key_1`...: one row
    without an expanding `IN`, whose list SQLAlchemy renders into the SQL at each run."""
    columns = [table.c[n] for n in key_columns(table)]
    params = KEY_PARAMS[: len(columns)]
    return select(table).where(*(c == bindparam(p) for c, p in zip(columns, params, strict=True)))


@cache
def upsert(table: Table, dialect: str) -> Insert:
    """`INSERT … ON CONFLICT (key) DO UPDATE SET every other column` for `table`."""
    dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = dialect_insert(table)
    names = key_columns(table)
    changes = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in names}
    return statement.on_conflict_do_update(index_elements=names, set_=changes)


@cache
def bind_processors(table: Table, dialect: Dialect) -> list[tuple[str, Any]]:
    """Each column's name and the function turning a Python value into what the driver takes."""
    return [(c.name, c.type.bind_processor(dialect)) for c in table.columns]


@cache
def compiled_upsert(table: Table, dialect: Dialect) -> tuple[str, list[tuple[str, Any]]]:
    """`upsert` as SQL text, with each parameter's column and bind processor in order.

    SQLAlchemy has no cache key for SQLite's `ON CONFLICT` clause, so it compiled
    the statement again for every batch: a third of a live follower pass's time.
    """
    compiled = upsert(table, dialect.name).compile(dialect=dialect)
    # The dialect's own types (SQLite's DATETIME writes its text format, with no offset).
    processors = {
        c.name: c.type.dialect_impl(dialect).bind_processor(dialect) for c in table.columns
    }
    return compiled.string, [(name, processors[name]) for name in compiled.positiontup or ()]


@cache
def unnest_upsert(table: Table, dialect: Dialect) -> str:
    """`INSERT … SELECT * FROM unnest(one array per column) ON CONFLICT … DO UPDATE` (PostgreSQL).

    Many rows in one short statement the driver caches: multi-row VALUES made
    psycopg parse a statement of thousands of parameters per batch, and
    executemany costs the server one execution per row.
    """
    quote = dialect.identifier_preparer.quote
    names = key_columns(table)
    arrays = ", ".join(f"%s::{c.type.compile(dialect=dialect)}[]" for c in table.columns)
    changes = ", ".join(
        f"{quote(c.name)} = excluded.{quote(c.name)}" for c in table.columns if c.name not in names
    )
    return (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
        f"({', '.join(quote(c.name) for c in table.columns)}) "
        f"SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({', '.join(quote(n) for n in names)}) DO UPDATE SET {changes}"
    )
