"""An auditor rebuilds the read models as they stood at a past position or time into another
read database, and gets exactly the tables the live path held then; on both stores."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from commands.messages import AddClosure, CancelBooking, RescheduleBooking, SetHours
from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from tests.conftest import JWT_SECRET, FrozenClock
from tests.integration.test_backup_restore import rows
from tests.integration.test_cli import assert_one_sentence, run
from tests.unit.builders import ALICE, BOB, OWNER, book, every_day, new_york, open_salon

pytestmark = [pytest.mark.subprocess, pytest.mark.slow]


def first_part(container: Container) -> tuple[Any, Any]:
    business_id, service_id = open_salon(container.app, OWNER)
    book(container.app, ALICE, service_id, new_york(2, 9))
    gone = book(container.app, BOB, service_id, new_york(2, 10))
    container.app.handle(CancelBooking(BOB, gone, "plans changed"))
    closed = (new_york(4, 9), new_york(4, 12))
    container.app.handle(AddClosure(OWNER, business_id, *closed, reason="inventory"))
    book(container.app, BOB, service_id, new_york(3, 11))
    return business_id, service_id


def second_part(container: Container, business_id: Any, service_id: Any) -> None:
    later = book(container.app, ALICE, service_id, new_york(3, 14))
    container.app.handle(RescheduleBooking(ALICE, later, new_york(3, 15)))
    weekly = every_day("10:00", "16:00", ("mon", "tue", "wed", "thu", "fri"))
    container.app.handle(SetHours(OWNER, business_id, weekly, keep_bookings=True))
    gone = book(container.app, BOB, service_id, new_york(5, 10))
    container.app.handle(CancelBooking(OWNER, gone, "staff ill"))


def past_target(backend: str, tmp_path: Path, request: Any, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / f'{name}.sqlite'}"
    dsn = request.getfixturevalue("postgres_dsn")
    schema = request.getfixturevalue("postgres_schema")
    return f"{dsn}?schema={schema}_{name}&pool_size=1&max_overflow=2"


@pytest.fixture
def drop_past_schemas(backend: str, request: Any) -> Any:
    yield
    if backend == "postgres":
        import psycopg

        schema = request.getfixturevalue("postgres_schema")
        with psycopg.connect(request.getfixturevalue("postgres_dsn"), autocommit=True) as conn:
            for name in ("at_position", "at_time"):
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}_{name}" CASCADE')


def env(settings: Settings) -> dict[str, str]:
    return {
        "event_store": settings.event_store_url,
        "read_db": settings.read_db_url,
        "jwt_secret": JWT_SECRET,
    }


def test_a_rebuild_until_a_position_or_a_time_gives_the_tables_as_they_stood_then(
    backend: str,
    settings: Settings,
    clock: FrozenClock,
    tmp_path: Path,
    request: Any,
    drop_past_schemas: None,
) -> None:
    container = bootstrap(settings, clock=clock)
    try:
        business_id, service_id = first_part(container)
        container.catch_up()
        then = rows(settings.read_db_url)
        position = container.app.recorder.max_notification_id() or 0
        moment = datetime.now(UTC)
        while datetime.now(UTC) <= moment:  # later events must carry a later time
            time.sleep(0.001)
        second_part(container, business_id, service_id)
        container.catch_up()
    finally:
        container.close()
    now = rows(settings.read_db_url)
    assert now["bookings"] != then["bookings"], "the history went on after the moment"

    at_position = past_target(backend, tmp_path, request, "at_position")
    by_position = run(
        "projections", "rebuild", "--until-position", str(position), "--read-db", at_position,
        cwd=tmp_path, **env(settings),
    )  # fmt: skip
    assert by_position.returncode == 0, by_position.stderr
    assert f"as of position {position}" in by_position.stderr
    assert rows(at_position) == then
    past = bootstrap(settings.model_copy(update={"read_db": at_position}), clock=clock)
    try:
        past.start_embedded_delivery()  # what a read API pointed at it does first
        assert past.follower is None, "a read API over the past leaves it where it stood"
    finally:
        past.close()
    assert rows(at_position) == then

    at_time = past_target(backend, tmp_path, request, "at_time")
    by_time = run(
        "projections", "rebuild", "--until", moment.isoformat(), "--read-db", at_time,
        cwd=tmp_path, **env(settings),
    )  # fmt: skip
    assert by_time.returncode == 0, by_time.stderr
    assert rows(at_time) == then
    assert rows(settings.read_db_url) == now, "the live read models are untouched"


def test_a_rebuild_of_the_past_refuses_the_live_read_database(
    settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    container = bootstrap(settings, clock=clock)
    try:
        first_part(container)
        container.catch_up()
    finally:
        container.close()
    live = rows(settings.read_db_url)

    refused = run(
        "projections", "rebuild", "--until-position", "3", "--read-db", settings.read_db_url,
        cwd=tmp_path, **env(settings),
    )  # fmt: skip

    assert_one_sentence(refused, "live read database")
    assert rows(settings.read_db_url) == live


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--until", "2027-03-01T10:00:00"], ("needs an offset",)),
        (["--until", "last tuesday"], ("not an ISO 8601 time",)),
        (["--until-position", "3"], ("need --read-db",)),
    ],
)
def test_a_rebuild_of_the_past_names_a_bad_option(
    settings: Settings, clock: FrozenClock, tmp_path: Path, options: list[str], words: tuple[str]
) -> None:
    bootstrap(settings, clock=clock).close()
    extra = [] if "need --read-db" in words else ["--read-db", f"sqlite:///{tmp_path / 'p.db'}"]

    answer = run("projections", "rebuild", *options, *extra, cwd=tmp_path, **env(settings))

    assert_one_sentence(answer, *words)
