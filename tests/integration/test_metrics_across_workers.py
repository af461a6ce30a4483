"""`slotwise write-api --workers 2`: every scrape of /metrics reads the totals of both workers."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from domain.actor import Role
from infra.auth import issue_token
from tests.conftest import JWT_SECRET
from tests.integration.test_cli import SLOTWISE, environment, free_port

pytestmark = [pytest.mark.subprocess, pytest.mark.slow, pytest.mark.timeout(180)]
BUSINESSES, SCRAPES = 24, 20


@contextmanager
def two_workers(tmp_path: Path, temporary: Path) -> Iterator[str]:
    """The write API in two uvicorn worker processes on one port; its base URL.

    `temporary` is its TMPDIR, where it keeps its workers' metrics files.
    """
    port = free_port()
    args = ["write-api", "--workers", "2", "--port", str(port), "--data-dir", str(tmp_path)]
    (tmp_path / "inherited").mkdir()  # another server's, say: it must not be used
    env = {
        **environment(jwt_secret=JWT_SECRET),
        "TMPDIR": str(temporary),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "inherited"),
    }
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen([SLOTWISE, *args], cwd=tmp_path, env=env, stderr=log, stdout=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_workers(url, process, tmp_path / "server.log")
        yield url
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        log.close()
    assert process.returncode == 0, (tmp_path / "server.log").read_text()[-3000:]


def wait_for_workers(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until both workers answer (each reports its own `process_*` with its pid)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if len(worker_pids(scrape(url))) == 2:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"two workers never answered: {log.read_text()[-3000:]}")


def scrape(url: str) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    answer = httpx.get(f"{url}/metrics", timeout=10)  # a new connection: any worker may answer
    assert answer.status_code == 200
    return {
        family.name: [(s.name, s.labels, s.value) for s in family.samples]
        for family in text_string_to_metric_families(answer.text)
    }


def worker_pids(families: dict[str, list[tuple[str, dict[str, str], float]]]) -> set[str]:
    return {labels["pid"] for _, labels, _ in families.get("process_start_time_seconds", [])}


def registered(families: dict[str, list[tuple[str, dict[str, str], float]]]) -> tuple[float, ...]:
    """Businesses registered: as commands that succeeded, and as 201 answers on their route."""
    commands = sum(
        value
        for name, labels, value in families.get("slotwise_command_outcomes", [])
        if name == "slotwise_command_outcomes_total"
        and labels == {"command": "register_business", "result": "ok"}
    )
    answers = sum(
        value
        for name, labels, value in families.get("slotwise_http_request_duration_seconds", [])
        if name == "slotwise_http_request_duration_seconds_count"
        and labels.get("route") == "/v1/businesses"
        and labels.get("status") == "201"
    )
    return commands, answers


def kill_one_worker(url: str) -> str:
    pid = min(worker_pids(scrape(url)))
    os.kill(int(pid), signal.SIGKILL)
    return pid


def until_replaced(url: str, dead: str) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    """A scrape once uvicorn has started a worker in place of the dead one."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        families = scrape(url)
        pids = worker_pids(families)
        if len(pids) == 2 and dead not in pids:
            return families
        time.sleep(0.1)
    pytest.fail(f"worker {dead} was not replaced")


def register(url: str, n: int) -> int:
    token = issue_token(JWT_SECRET, f"owner-{n}", Role.OWNER)
    answer = httpx.post(
        f"{url}/v1/businesses",
        json={"name": f"Salon {n}", "slug": f"salon-{n}", "timezone": "UTC"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    return answer.status_code


def served_by(temporary: Path) -> set[str]:
    """The workers that timed a request (each writes its histograms to a file of its own)."""
    return {f.stem.rsplit("_", 1)[1] for f in temporary.glob("slotwise-*/histogram_*.db")}


def test_every_scrape_reads_the_same_totals_whichever_worker_answers(tmp_path: Path) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    with two_workers(tmp_path, temporary) as url:
        with ThreadPoolExecutor(4) as pool:  # new connections from four clients: both serve
            statuses = list(pool.map(lambda n: register(url, n), range(BUSINESSES)))
        assert statuses == [201] * BUSINESSES

        scrapes = [scrape(url) for _ in range(SCRAPES)]
        served = served_by(temporary)

        dead = kill_one_worker(url)
        replaced = until_replaced(url, dead)

    assert [registered(families) for families in scrapes] == [(BUSINESSES, BUSINESSES)] * SCRAPES
    assert all(len(worker_pids(families)) == 2 for families in scrapes)
    assert len(served) == 2  # both workers' counts are in each total
    # a worker killed and replaced by uvicorn: its counts stay, its process_* go
    assert registered(replaced) == (BUSINESSES, BUSINESSES)
    assert len(worker_pids(replaced)) == 2 and dead not in worker_pids(replaced)
    assert list(temporary.iterdir()) == []  # the server removed its metrics directory
    assert list((tmp_path / "inherited").iterdir()) == []
