"""An operator backs the event store up while it serves, restores it elsewhere, rebuilds,
and gets the same read models: run through the `slotwise` commands, on both stores."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from commands.messages import CancelBooking
from infra.bootstrap import bootstrap
from infra.settings import Settings, sqlalchemy_url
from projections.tables import availability_stamps, metadata
from tests.conftest import JWT_SECRET, FrozenClock
from tests.integration.test_cli import assert_one_sentence, run
from tests.unit.builders import ALICE, BOB, OWNER, book, new_york, open_salon

pytestmark = [pytest.mark.subprocess, pytest.mark.slow]


def rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model table's rows, in a stable order (availability stamps are random cache
    keys, new on every change)."""
    engine = create_engine(sqlalchemy_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return {
                table.name: sorted(tuple(map(repr, row)) for row in conn.execute(select(table)))
                for table in metadata.sorted_tables
                if table is not availability_stamps
            }
    finally:
        engine.dispose()


def write_history(settings: Settings, clock: FrozenClock) -> None:
    container = bootstrap(settings, clock=clock)
    try:
        _, service_id = open_salon(container.app, OWNER)
        kept = book(container.app, ALICE, service_id, new_york(2, 9))
        gone = book(container.app, BOB, service_id, new_york(2, 10))
        container.app.handle(CancelBooking(BOB, gone, "plans changed"))
        book(container.app, BOB, service_id, new_york(3, 11))
        assert kept
        container.catch_up()
    finally:
        container.close()


@pytest.fixture
def restored_postgres(postgres_dsn: str, postgres_schema: str) -> Iterator[str]:
    """A new database to restore into: the event store URL of the same schema there."""
    name = f"restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = postgres_dsn.rsplit("/", 1)[0]
    yield f"{base}/{name}?schema={postgres_schema}&pool_size=1&max_overflow=2"
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def settings_env(settings: Settings) -> dict[str, str]:
    return {
        "event_store": settings.event_store_url,
        "read_db": settings.read_db_url,
        "jwt_secret": JWT_SECRET,
    }


def test_a_backup_restored_and_rebuilt_gives_the_same_read_models(
    backend: str, settings: Settings, clock: FrozenClock, tmp_path: Path, request: Any
) -> None:
    write_history(settings, clock)
    live = rows(settings.read_db_url)
    assert live["bookings"], "the history produced bookings"
    dump = tmp_path / "events.backup"

    backed_up = run("backup", str(dump), cwd=tmp_path, **settings_env(settings))
    assert backed_up.returncode == 0, backed_up.stderr
    assert dump.stat().st_size > 0

    if backend == "postgres":
        target = request.getfixturevalue("restored_postgres")
    else:
        target = f"sqlite:///{tmp_path / 'elsewhere' / 'events.sqlite'}"
    read_target = target if backend == "postgres" else f"sqlite:///{tmp_path / 'elsewhere.read'}"
    elsewhere = {"event_store": target, "read_db": read_target, "jwt_secret": JWT_SECRET}
    restored = run("restore", str(dump), cwd=tmp_path, **elsewhere)
    assert restored.returncode == 0, restored.stderr
    rebuilt = run("projections", "rebuild", cwd=tmp_path, **elsewhere)
    assert rebuilt.returncode == 0, rebuilt.stderr

    assert rows(read_target) == live


def test_a_restore_never_overwrites_a_store(
    settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    write_history(settings, clock)
    dump = tmp_path / "events.backup"
    assert run("backup", str(dump), cwd=tmp_path, **settings_env(settings)).returncode == 0

    again = run("restore", str(dump), cwd=tmp_path, **settings_env(settings))

    assert_one_sentence(again, "restore")
    assert_one_sentence(run("backup", str(dump), cwd=tmp_path, **settings_env(settings)), "exists")
