"""An export of 100,000 events, and its offline verification, run in memory that does not grow
with the log: peak RSS measured in child processes for 5,000 and 100,000 events (SQLite)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent

from infra.bootstrap import bootstrap
from infra.settings import Settings
from tests.conftest import JWT_SECRET
from tests.integration.audit_helpers import history
from tests.integration.test_cli import SLOTWISE, environment

pytestmark = [pytest.mark.subprocess, pytest.mark.slow]

BATCH = 5000
# Runs a command as its child and prints the child's peak resident set size in KiB.
PEAK_RSS = (
    "import json, resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "assert done.returncode == 0, done.stderr\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(json.dumps([done.stdout.strip(), peak]))\n"
)


def fill(data_dir: Path, events: int) -> None:
    """A real history, then its stored records copied under new ids through the chained
    recorder (each copy decodes as the event it copies), up to `events` records."""
    container = bootstrap(Settings(data_dir=data_dir, jwt_secret=JWT_SECRET))
    try:
        history(container.app, bookings=12)
        recorder = container.app.recorder
        seed = recorder.select_notifications(1, 1000)
        total = len(seed)
        while total < events:
            batch: list[StoredEvent] = []
            while len(batch) < BATCH and total + len(batch) < events:
                copies: dict[uuid.UUID, uuid.UUID] = {}  # one copy of the seed's aggregates
                batch += [
                    StoredEvent(
                        copies.setdefault(r.originator_id, uuid.uuid4()),
                        r.originator_version,
                        r.topic,
                        r.state,
                    )
                    for r in seed
                ]
            batch = batch[: events - total]
            recorder.insert_events(batch)
            total += len(batch)
    finally:
        container.close()


def peak_kib(*args: str, data_dir: Path) -> tuple[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, SLOTWISE, *args],
        env=environment(jwt_secret=JWT_SECRET, data_dir=str(data_dir)),
        cwd=data_dir.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    said, peak = json.loads(done.stdout)
    return str(said), int(peak)


def export_and_verify(tmp_path: Path, events: int) -> tuple[int, int]:
    data_dir = tmp_path / f"store-{events}"
    fill(data_dir, events)
    out = tmp_path / f"log-{events}.jsonl"
    _, exporting = peak_kib("audit", "export", "--out", str(out), data_dir=data_dir)
    verdict, verifying = peak_kib("audit", "verify", str(out), data_dir=data_dir)
    assert verdict.startswith(f"{events} events verified"), verdict
    print(f"{events} events: export peak {exporting} KiB, verify peak {verifying} KiB")
    return exporting, verifying


def test_exporting_and_verifying_100_000_events_takes_no_more_memory_than_5_000(
    tmp_path: Path,
) -> None:
    small = export_and_verify(tmp_path, 5_000)
    large = export_and_verify(tmp_path, 100_000)

    for name, few, many in zip(("export", "verify"), small, large, strict=True):
        # Twenty times the log; the same memory, give or take allocator noise (8 MiB).
        assert many - few < 8 * 1024, f"{name}: {few} KiB for 5,000, {many} KiB for 100,000"
        assert many < 300 * 1024, f"{name}: {many} KiB"
