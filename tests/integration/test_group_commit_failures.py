"""The group-committed insert (infra/pg_recorder.py): every save that fails, fails alone.

The eventsourcing library's own `ApplicationRecorderTestCase` runs against the
recorder on a fresh schema; a probe puts one bad save between two good ones in
the same group and sees the good ones commit (and chained), the bad one refused
with the library's exception for its SQLSTATE, and no chain link for it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import (
    DataError,
    IntegrityError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.tests.persistence import ApplicationRecorderTestCase

from infra.pg_recorder import LockedInsertRecorder, save_error
from tests.conftest import POSTGRES

pytestmark = pytest.mark.postgres


def datastore(schema: str) -> PostgresDatastore:
    info = psycopg.conninfo.conninfo_to_dict(POSTGRES)
    return PostgresDatastore(
        dbname=str(info.get("dbname", "test")),
        host=str(info.get("host", "127.0.0.1")),
        port=str(info.get("port", 5432)),
        user=str(info.get("user", "postgres")),
        password=str(info.get("password", "")),
        schema=schema,
        pool_size=2,
        max_overflow=8,
    )


def create_schema() -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    return name


def drop_schema(name: str) -> None:
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{name}" CASCADE')


class TestLibraryApplicationRecorderCases(ApplicationRecorderTestCase[LockedInsertRecorder]):
    """The library's own cases. All apply: a unique violation is caught inside the function
    before any other save of its group runs, so ids stay contiguous when no save fails."""

    def setUp(self) -> None:
        self.schema = create_schema()
        self.datastores: list[PostgresDatastore] = []

    def tearDown(self) -> None:
        for store in self.datastores:
            store.close()
        drop_schema(self.schema)

    def create_recorder(self) -> LockedInsertRecorder:
        store = datastore(self.schema)
        self.datastores.append(store)
        recorder = LockedInsertRecorder(store)
        recorder.create_table()
        return recorder


@pytest.fixture
def recorder() -> Iterator[LockedInsertRecorder]:
    schema = create_schema()
    store = datastore(schema)
    found = LockedInsertRecorder(store)
    found.create_table()
    yield found
    store.close()
    drop_schema(schema)


def event(originator: uuid.UUID, version: int, topic: str = "good") -> StoredEvent:
    return StoredEvent(originator, version, topic, b"{}")


def save_in_one_group(recorder: LockedInsertRecorder, saves: list[list[StoredEvent]]) -> list[Any]:
    """Queue `saves` while a call is (said to be) in flight, then make one call for them all."""
    with recorder._queue_lock:
        recorder._calling = True  # as if another save were being inserted right now
    outcomes: list[Any] = [None] * len(saves)

    def save(n: int) -> None:
        try:
            outcomes[n] = recorder.insert_events(saves[n])
        except Exception as error:
            outcomes[n] = error

    threads = [threading.Thread(target=save, args=(n,)) for n in range(len(saves))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(recorder._queue) < len(saves):
        assert time.monotonic() < deadline, "the saves never queued"
        time.sleep(0.005)
    recorder._call_for_group()  # one call: one transaction for the three saves
    for thread in threads:
        thread.join(timeout=10)
    return outcomes


def chain_positions(recorder: LockedInsertRecorder) -> list[int]:
    with recorder.datastore.transaction(commit=False) as curs:
        curs.execute(
            f'SELECT position FROM "{recorder.datastore.schema}".'
            f'"{recorder.chain_table_name}" ORDER BY position'
        )
        return [row["position"] for row in curs.fetchall()]


def test_a_bad_save_between_two_good_ones_fails_alone(recorder: LockedInsertRecorder) -> None:
    # An operator narrowed the topic column: a longer topic is a DataError for that save.
    with recorder.datastore.transaction(commit=True) as curs:
        curs.execute(
            f'ALTER TABLE "{recorder.datastore.schema}"."{recorder.events_table_name}" '
            "ALTER COLUMN topic TYPE varchar(20)"
        )
    good1, bad, good2 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    outcomes = save_in_one_group(
        recorder,
        [
            [event(good1, 1), event(good1, 2)],
            [event(bad, 1), event(bad, 2, topic="x" * 50)],
            [event(good2, 1)],
        ],
    )
    assert isinstance(outcomes[1], DataError)
    assert "22001" in str(outcomes[1]) and "too long" in str(outcomes[1])
    assert outcomes[0] == [1, 2]
    (third,) = outcomes[2]
    assert third > 3  # the bad save drew an id it never used: positions rise, with a gap
    assert len(recorder.select_events(good1)) == 2
    assert len(recorder.select_events(good2)) == 1
    assert recorder.select_events(bad) == []
    assert [n.id for n in recorder.select_notifications(start=None, limit=10)] == [1, 2, third]
    assert chain_positions(recorder) == [1, 2, third]  # the failed save left no link


def test_a_unique_violation_in_a_group_fails_alone(recorder: LockedInsertRecorder) -> None:
    taken = uuid.uuid4()
    recorder.insert_events([event(taken, 1)])
    fresh = uuid.uuid4()
    outcomes = save_in_one_group(recorder, [[event(taken, 1)], [event(fresh, 1)]])
    assert isinstance(outcomes[0], IntegrityError)
    assert "23505" in str(outcomes[0])
    assert isinstance(outcomes[1], list) and len(outcomes[1]) == 1
    assert len(recorder.select_events(fresh)) == 1


@pytest.mark.parametrize(
    ("sqlstate", "expected"),
    [
        ("23505", IntegrityError),  # unique_violation
        ("22001", DataError),  # string_data_right_truncation
        ("42703", ProgrammingError),  # undefined_column
        ("57014", OperationalError),  # query_canceled
        ("ZZ999", PersistenceError),  # unknown to psycopg
    ],
)
def test_each_sqlstate_maps_as_the_library_maps_it(
    sqlstate: str, expected: type[Exception]
) -> None:
    error = save_error(sqlstate, "what the server said")
    assert type(error) is expected or (expected is PersistenceError and isinstance(error, expected))
    assert "what the server said" in str(error) and sqlstate in str(error)
