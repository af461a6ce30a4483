"""What Prometheus scrapes: a worker's `--metrics-port`, and docs/operations.md's table of metrics.

The table must list exactly what the code exposes: both APIs and a projector
worker are scraped on the production stack (the only one with every metric).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from infra.bootstrap import Container
from infra.settings import Settings
from read_api.app import create_app as create_read_app
from tests.integration.test_cli import free_port, listening
from tests.kafka.processes import ROOT, Process
from write_api.app import create_app as create_write_app

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.subprocess]
TYPE_LINE = re.compile(r"^# TYPE (\S+) (\S+)$", re.MULTILINE)
TABLE_ROW = re.compile(r"^\| `([a-z_]+)` \| (counter|gauge|histogram) \|", re.MULTILINE)
PROJECTORS = {
    "business_directory",
    "service_catalogue",
    "availability",
    "bookings",
    "business_stats",
}


def exposed(text: str) -> dict[str, str]:
    """Each metric family's name, as Prometheus stores it, and its type."""
    return dict(TYPE_LINE.findall(text))


def documented() -> dict[str, str]:
    """The rows of the metrics table in docs/operations.md."""
    section = (ROOT / "docs" / "operations.md").read_text().split("### Metrics", 1)[1]
    return dict(TABLE_ROW.findall(section.split("\n### ", 1)[0]))


def scrape_port(port: int, process: Process, log: Path) -> str:
    """The worker's /metrics once it answers (it starts after connecting to everything)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.popen is not None and process.popen.poll() is None, log.read_text()
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/plain")
        return answer.text
    pytest.fail(f"no metrics on port {port}: {log.read_text()}")


def test_a_projector_worker_serves_its_metrics_on_its_port_and_the_table_lists_them_all(
    container: Container, settings: Settings, tmp_path: Path
) -> None:
    port, log = free_port(), tmp_path / "project.log"
    worker = Process(["project", "--metrics-port", str(port)], settings, log)
    worker.start()
    try:
        text = scrape_port(port, worker, log)
    finally:
        assert worker.terminate() == 0, log.read_text()
    assert f"metrics on http://127.0.0.1:{port}/metrics" in log.read_text()
    worker_families = exposed(text)
    assert {"slotwise_kafka_lag_events", "slotwise_projection_position"} <= set(worker_families)
    assert worker_families["process_cpu_seconds_total"] == "counter"
    assert {f'projector="{name}"' for name in PROJECTORS} <= set(
        re.findall(r'projector="\w+"', text)
    )

    apis = {}
    for create_app in (create_write_app, create_read_app):
        with TestClient(create_app(container)) as client:
            apis |= exposed(client.get("/metrics").text)

    assert worker_families.items() <= apis.items()  # one registry's families everywhere
    assert documented() == apis | worker_families


def test_the_relay_serves_what_it_has_yet_to_publish_on_its_metrics_port(
    container: Container, settings: Settings, tmp_path: Path
) -> None:
    port, log = free_port(), tmp_path / "relay.log"
    relay = Process(["relay", "--metrics-port", str(port)], settings, log)
    relay.start()
    try:
        text = scrape_port(port, relay, log)
    finally:
        assert relay.terminate() == 0, log.read_text()
    assert re.search(r'^slotwise_kafka_lag_events\{consumer="relay"\} \d', text, re.MULTILINE), text


def test_a_busy_metrics_port_is_one_sentence(settings: Settings, tmp_path: Path) -> None:
    log = tmp_path / "project.log"
    with listening() as busy:
        worker = Process(["project", "--metrics-port", str(busy)], settings, log)
        worker.start()
        assert worker.popen is not None
        assert worker.popen.wait(timeout=60) == 2, log.read_text()
    lines = [line for line in log.read_text().splitlines() if line.startswith("slotwise: ")]
    assert lines == [
        f"slotwise: cannot listen on 127.0.0.1:{busy} for metrics: Address already in use"
    ]
