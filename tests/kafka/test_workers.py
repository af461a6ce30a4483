"""Projector workers: poison messages are parked, /ready tells the truth, budgets hold."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaProducer
from typer.testing import CliRunner

from infra.bootstrap import Container, bootstrap, build_read_api
from infra.cli import app
from infra.follower import read_log
from infra.kafka.processes import build_relay, build_worker
from infra.kafka.topics import ensure_topics, topic_for
from infra.settings import Settings
from read_api.app import create_app as create_read_app
from tests.kafka.conftest import Threads, Workload, wait_until
from tests.kafka.processes import settings_env
from tests.kafka.test_faults import ALL, read_models, rebuilt

ROOT = Path(__file__).resolve().parents[2]


def start(settings: Settings, threads: Threads, *builds: object) -> None:
    for build in builds:
        process_container = bootstrap(settings)
        threads.start(build(process_container), process_container)  # type: ignore[operator]


def test_a_message_that_is_no_envelope_is_parked_and_the_partition_goes_on(
    container: Container, settings: Settings, threads: Threads
) -> None:
    one = settings.model_copy(update={"kafka_partitions": 1})
    ensure_topics(one)
    producer = KafkaProducer(bootstrap_servers=one.kafka_servers)
    topic = topic_for(one.kafka_topic_prefix, "booking")
    producer.send(topic, key=b"not-an-aggregate", value=b"\xff not json").get(timeout=10)
    producer.close()
    load = Workload(container, businesses=1)
    for _ in range(5):
        load.next()
    start(one, threads, build_relay, build_worker)
    written = container.app.recorder.max_notification_id() or 0

    wait_until(lambda: container.reached(ALL) >= written, 60, "the read side")

    parked = container.dead_letters.entries("bookings")
    assert [(d.status, d.event_type, d.source_offset) for d in parked] == [
        ("parked", "slotwise.undecodable", 0)
    ]


@pytest.fixture
def read_client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_read_app(container), raise_server_exceptions=False) as client:
        yield client


def test_ready_reports_lag_and_an_unreachable_kafka(
    container: Container, settings: Settings, threads: Threads, read_client: TestClient
) -> None:
    load = Workload(container, businesses=1)
    for _ in range(5):
        load.next()
    written = container.app.recorder.max_notification_id() or 0

    behind = read_client.get("/ready")
    assert behind.status_code == 200, behind.text
    assert behind.json()["checks"]["kafka"] == "ok"
    assert behind.json()["lag"]["relay"] == written  # nothing relayed yet

    start(settings, threads, build_relay, build_worker)
    wait_until(lambda: container.reached(ALL) >= written, 60, "the read side")
    lag = read_client.get("/ready").json()["lag"]
    assert lag == {"relay": 0, **{name: 0 for name in ALL}}

    nobody_there = settings.model_copy(update={"kafka": "127.0.0.1:9"})
    role = build_read_api(nobody_there)
    try:
        with TestClient(create_read_app(role), raise_server_exceptions=False) as client:
            away = client.get("/ready")
    finally:
        role.close()
    assert away.status_code == 503
    assert away.json()["checks"]["kafka"].startswith("error")


def test_one_process_needs_at_most_15_postgresql_connections_by_default(
    container: Container,
) -> None:
    settings = Settings(event_store="postgresql://x@h/db", jwt_secret="s" * 32)
    budget = sum(
        getattr(settings, f"{pool}_pool_size") + getattr(settings, f"{pool}_max_overflow")
        for pool in ("event_store", "event_store_tables", "read_db")
    )
    assert budget <= 15
    # The pools are sized by those settings (the test stacks' own are smaller).
    chosen = container.settings
    recorder_pool = container.app.recorder.datastore.pool  # type: ignore[attr-defined]
    assert recorder_pool.max_size == chosen.event_store_pool_size + chosen.event_store_max_overflow
    assert container.read_db.writer.pool.size() == chosen.read_db_pool_size  # type: ignore[attr-defined]


@pytest.mark.subprocess
def test_the_example_analytics_consumer_prints_every_booking_event(
    container: Container, settings: Settings, threads: Threads
) -> None:
    load = Workload(container, businesses=1)
    for _ in range(8):
        load.next()
    start(settings, threads, build_relay)
    written = container.app.recorder.max_notification_id() or 0
    wait_until(lambda: container.reached(()) >= written, 60, "the relay")
    topic = topic_for(settings.kafka_topic_prefix, "booking")

    printed = subprocess.run(
        [
            sys.executable,
            "examples/analytics_consumer.py",
            "--servers",
            settings.kafka,
            "--topic",
            topic,
            "--idle-seconds",
            "2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()

    log = read_log(container.app.recorder, container.app.mapper, 0, 1000)
    bookings = [d.envelope for d in log if d.envelope.aggregatetype == "booking"]
    rows = [line.split()[:3] for line in printed]  # position, type, aggregate id
    assert sorted(rows, key=lambda r: int(r[0])) == [
        [str(e.position), e.type, e.subject] for e in bookings
    ]
    assert {"slotwise.booking.rescheduled", "slotwise.booking.cancelled"} <= {
        e.type for e in bookings
    }


def test_after_a_rebuild_from_the_event_store_workers_go_on_without_applying_twice(
    container: Container,
    settings: Settings,
    threads: Threads,
    postgres_dsn: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load = Workload(container)
    for _ in range(15):
        load.next()
    start(settings, threads, build_relay, build_worker)
    written = container.app.recorder.max_notification_id() or 0
    wait_until(lambda: container.reached(ALL) >= written, 60, "the read side")
    threads.stop_all()
    for _ in range(10):  # written while no worker runs; the rebuild takes them in
        load.next()
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)

    rebuilt_cli = CliRunner().invoke(app, ["projections", "rebuild"])

    assert rebuilt_cli.exit_code == 0, rebuilt_cli.output
    start(settings, threads, build_relay, build_worker)
    for _ in range(10):
        load.next()
    written = container.app.recorder.max_notification_id() or 0
    wait_until(lambda: container.reached(ALL) >= written, 60, "the read side")
    assert container.dead_letters.count() == 0  # nothing applied twice
    assert read_models(container) == rebuilt(settings, postgres_dsn)
