"""Back up and restore the event store: the one store that cannot be rebuilt.

Everything else — read models, checkpoints, caches — is rebuilt from it
(`slotwise projections rebuild`). On PostgreSQL a backup is `pg_dump` of the
event store's schema in the custom format (the events, their notification-id
sequence, the insert function, and the tables kept beside them: idempotency
keys, payment tasks, relay positions, personal-data keys), taken in one
snapshot while writers go on; a restore is `pg_restore` into a database where
that schema does not exist yet. On SQLite a backup is SQLite's online backup of
the file (consistent while writers go on); a restore copies it to a path that
holds no store yet.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from infra.settings import Settings


class BackupFailed(Exception):
    """The backup or restore could not be done; the message says why, in one sentence."""


@dataclass(frozen=True)
class PostgresTarget:
    conninfo: str  # libpq URL without SlotWise's own options
    schema: str


def postgres_target(url: str) -> PostgresTarget:
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    netloc = parts.netloc or "postgres@127.0.0.1"
    conninfo = f"postgresql://{netloc}{parts.path or '/slotwise'}"
    return PostgresTarget(conninfo, query.get("schema", "public"))


def sqlite_path(url: str) -> Path:
    path = urlsplit(url).path
    return Path(path[1:] if path.startswith("/") else path)


def backup(settings: Settings, out: Path) -> str:
    """Write a backup of the event store to `out`; returns what was backed up."""
    if out.exists():
        raise BackupFailed(f"{out} exists; name a new file")
    if settings.uses_postgres:
        target = postgres_target(settings.event_store_url)
        options = ["--format=custom", "--no-owner", "--no-privileges"]
        _run(
            [
                _tool("pg_dump"),
                *options,
                f"--schema={target.schema}",
                f"--file={out}",
                target.conninfo,
            ]
        )
        return f"schema {target.schema} of {target.conninfo}"
    source = sqlite_path(settings.event_store_url)
    if not source.is_file():
        raise BackupFailed(f"no event store at {source}")
    with sqlite3.connect(source) as src, sqlite3.connect(out) as dst:
        src.backup(dst)
    return str(source)


def restore(settings: Settings, backup_file: Path) -> str:
    """Restore `backup_file` as the configured event store, which must not exist yet."""
    if not backup_file.is_file():
        raise BackupFailed(f"no backup at {backup_file}")
    if settings.uses_postgres:
        target = postgres_target(settings.event_store_url)
        if _schema_has_tables(target):
            raise BackupFailed(
                f"schema {target.schema} already holds tables; restore into a new database "
                "or drop the schema first"
            )
        options = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
        _run([_tool("pg_restore"), *options, f"--dbname={target.conninfo}", str(backup_file)])
        return f"schema {target.schema} of {target.conninfo}"
    path = sqlite_path(settings.event_store_url)
    if path.exists():
        raise BackupFailed(f"{path} exists; restore to a path that holds no store")
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(backup_file) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    return str(path)


def _schema_has_tables(target: PostgresTarget) -> bool:
    import psycopg

    with psycopg.connect(target.conninfo, connect_timeout=10) as conn:
        # pg_restore creates the schema; an existing empty one is dropped so it can.
        row = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = %s", [target.schema]
        ).fetchone()
        if row is not None and row[0] > 0:
            return True
        if target.schema != "public":
            conn.execute(f'DROP SCHEMA IF EXISTS "{target.schema}"')
    return False


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupFailed(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise BackupFailed(
            f"{Path(command[0]).name} failed: {lines[-1] if lines else done.returncode}"
        )
