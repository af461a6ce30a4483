"""No follower ever skips an event: commit order is notification-id order across processes.

Two OS processes insert events through the server-side locked insert, several
threads each, some saves failing on a version conflict. Meanwhile a follower
reads the log after the last id it saw, over and over. Had a lower id committed
after a higher one, the follower would have read past it and never seen it; so
at the end the follower must have seen every id the table holds, in order.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from commands.app import SlotWise
from infra.pg_recorder import LockedInsertRecorder
from infra.settings import Settings
from tests.conftest import JWT_SECRET

pytestmark = [pytest.mark.postgres, pytest.mark.subprocess, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]
SAVES, THREADS = 300, 3


def test_a_follower_sees_every_event_of_two_writing_processes_in_order(
    postgres_dsn: str, postgres_schema: str
) -> None:
    url = f"{postgres_dsn}?schema={postgres_schema}&pool_size=2&max_overflow=1"
    app = SlotWise(env=Settings(event_store=url, jwt_secret=JWT_SECRET).eventsourcing_env())
    assert isinstance(app.recorder, LockedInsertRecorder)
    command = [sys.executable, "-m", "tests.integration.log_writer", url, str(SAVES), str(THREADS)]
    writers = [subprocess.Popen(command, cwd=ROOT) for _ in range(2)]
    seen: list[int] = []
    try:
        while any(w.poll() is None for w in writers):
            after = seen[-1] if seen else 0
            batch = app.recorder.select_notifications(after, 1000, inclusive_of_start=False)
            seen.extend(n.id for n in batch)
        assert [w.returncode for w in writers] == [0, 0]
        while batch := app.recorder.select_notifications(seen[-1], 1000, inclusive_of_start=False):
            seen.extend(n.id for n in batch)
        everything = [n.id for n in app.recorder.select_notifications(0, 100_000)]
    finally:
        for writer in writers:
            writer.kill()
        app.close()
    assert seen == sorted(set(seen))
    assert seen == everything
    assert len(everything) >= 2 * THREADS * SAVES
