"""`slotwise audit verify` and `audit export`, run as an auditor runs them."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import pytest

from commands.app import SlotWise
from infra.settings import Settings
from tests.integration.audit_helpers import history
from tests.integration.test_cli import run
from tests.sealing import with_keys

pytestmark = [pytest.mark.subprocess, pytest.mark.timeout(120)]


def test_verify_export_and_verify_the_export_from_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data)
    app = with_keys(SlotWise(env=settings.eventsourcing_env()))
    business_id, _ = history(app)
    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    app.close()
    verified = run("audit", "verify", "--data-dir", str(data), cwd=tmp_path)
    assert verified.returncode == 0, verified.stderr
    assert " events verified; head " in verified.stdout
    out = tmp_path / "log.jsonl"
    exported = run("audit", "export", "--out", str(out), "--data-dir", str(data), cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    offline = run("audit", "verify", str(out), cwd=tmp_path)
    assert (offline.returncode, offline.stdout) == (0, verified.stdout)
    mine = run(
        "audit", "export", "--business", str(business_id), "--data-dir", str(data), cwd=tmp_path
    )
    assert all(
        orjson.loads(line)["exportscope"].startswith("business:")
        for line in mine.stdout.splitlines()
    )

    with sqlite3.connect(urlsplit(settings.event_store_url).path.removeprefix("/")) as conn:
        conn.execute(f"UPDATE {table} SET state = CAST('{{}}' AS BLOB) WHERE rowid = 3")
    tampered = run("audit", "verify", "--data-dir", str(data), cwd=tmp_path)
    assert tampered.returncode == 1
    assert tampered.stdout.startswith("position 3: ")
    bad = run("audit", "export", "--until", "yesterday", "--data-dir", str(data), cwd=tmp_path)
    assert bad.returncode == 2 and "--until" in bad.stderr
