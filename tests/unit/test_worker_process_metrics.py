"""`process_*` under `--workers N`: one series per live worker, none for a dead one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from infra.metrics import WorkerProcessCollector
from infra.metrics_processes import private_multiprocess_dir


def a_dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_each_live_worker_reports_its_own_process_metrics_and_a_dead_one_none(
    tmp_path: Path,
) -> None:
    live, dead = os.getpid(), a_dead_pid()
    for name in (f"counter_{live}.db", f"histogram_{live}.db", f"counter_{dead}.db", "notes.db"):
        (tmp_path / name).write_bytes(b"")
    registry = CollectorRegistry()
    registry.register(WorkerProcessCollector(str(tmp_path)))

    families = text_string_to_metric_families(generate_latest(registry).decode())

    samples = [s for f in families for s in f.samples]
    assert {s.labels["pid"] for s in samples} == {str(live)}
    assert {s.name for s in samples} >= {
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
    }


def test_a_servers_metrics_directory_is_fresh_private_and_gone_after() -> None:
    before = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    with (
        private_multiprocess_dir("write-api") as first,
        private_multiprocess_dir("read-api") as other,
    ):
        assert first != other
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == other
        assert list(Path(first).iterdir()) == [] and oct(Path(first).stat().st_mode)[-3:] == "700"
    assert not Path(first).exists() and not Path(other).exists()
    assert os.environ.get("PROMETHEUS_MULTIPROC_DIR") == before
