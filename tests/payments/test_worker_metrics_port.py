"""`slotwise payments worker --metrics-port`: Prometheus scrapes the payment worker too."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.test_cli import free_port
from tests.payments.conftest import paid_settings
from tests.payments.fake_stripe import FakeStripe
from tests.payments.test_hold_timer_restart import WorkerProcess

pytestmark = [pytest.mark.postgres, pytest.mark.subprocess]


def test_the_payment_worker_answers_on_its_metrics_port_until_it_stops(
    tmp_path: Path, request: pytest.FixtureRequest, fake_stripe: FakeStripe
) -> None:
    settings = paid_settings("postgres", tmp_path, request, fake_stripe.url)
    port = free_port()
    worker = WorkerProcess(settings, tmp_path / "worker.log", "--metrics-port", str(port))
    try:
        text = scrape(f"http://127.0.0.1:{port}/metrics", worker)
    finally:
        worker.stop()
    assert worker.process.returncode == 0, worker.tail()
    names = {family.name for family in text_string_to_metric_families(text)}
    # Its own commands' figures and the process's; the projectors' gauges belong to the
    # processes that run projectors (the payments role builds no read side).
    assert {"slotwise_conflict_retries", "process_cpu_seconds"} <= names
    with pytest.raises(httpx.TransportError):  # the port closed with the worker
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)


def scrape(url: str, worker: WorkerProcess) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert worker.process.poll() is None, worker.tail()
        try:
            answer = httpx.get(url, timeout=5)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        assert answer.status_code == 200
        return answer.text
    pytest.fail(f"no metrics at {url}: {worker.tail()}")
