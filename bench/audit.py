"""Audit: events/s of `audit verify` on the store, of `audit export`, and of verifying an export.

For each backend (an SQLite file, a fresh PostgreSQL schema, dropped at the
end) this writes a small real history through the application's commands,
then copies its stored records under new aggregate ids until the log holds
--events events (each copy decodes as the event it copies), all through the
chained recorder, so the chain is the one the write path makes. Then it times:

- verify: `infra.audit.verify.verify_store`, recomputing the chain from the store;
- export: `infra.audit.export.export_lines` written to a file (envelopes and all);
- offline: `infra.audit.offline.verify_export` on that file (chain and envelopes).

    .venv/bin/python bench/audit.py [--events 20000] [--backends sqlite,postgres]
        [--pg-dsn postgresql://postgres@127.0.0.1:5432/test]

Prints one line per figure, then one JSON line with every figure and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import harness
import psycopg
from eventsourcing.persistence import StoredEvent

from infra.audit.export import ExportFilter, export_lines
from infra.audit.log import ChainLog
from infra.audit.offline import verify_export
from infra.audit.verify import verify_store
from infra.bootstrap import bootstrap
from infra.settings import Settings
from tests.integration.audit_helpers import history

BATCH = 500
SECRET = "bench-audit-secret-" + "x" * 32


def fill(container: Any, events: int) -> int:
    """A real history, then copies of its records under new ids, up to `events`."""
    history(container.app, bookings=12)
    recorder = container.app.recorder
    seed = recorder.select_notifications(1, 1000)
    total = len(seed)
    while total < events:
        batch, copies = [], {}
        for record in seed[: min(BATCH, events - total)]:
            copy_id = copies.setdefault(record.originator_id, uuid.uuid4())
            batch.append(
                StoredEvent(copy_id, record.originator_version, record.topic, record.state)
            )
        recorder.insert_events(batch)
        total += len(batch)
    return total


def measure(settings: Settings, events: int, workdir: Path) -> dict[str, float]:
    container = bootstrap(settings)
    try:
        written = fill(container, events)
        log = ChainLog(container.app.recorder)
        started = time.perf_counter()
        verdict = verify_store(log)
        verify_seconds = time.perf_counter() - started
        assert verdict.ok and verdict.events == written, verdict.sentence()
        target = workdir / "export.jsonl"
        started = time.perf_counter()
        with target.open("wb") as sink:
            for line in export_lines(log, container.app.mapper, ExportFilter()):
                sink.write(line)
        export_seconds = time.perf_counter() - started
        started = time.perf_counter()
        with target.open("rb") as lines:
            offline = verify_export(lines)
        offline_seconds = time.perf_counter() - started
        assert offline.ok and offline.events == written, offline.sentence()
    finally:
        container.close()
    return {
        "events": written,
        "verify_events_per_s": round(written / verify_seconds),
        "export_events_per_s": round(written / export_seconds),
        "offline_verify_events_per_s": round(written / offline_seconds),
        "export_bytes_per_event": round(target.stat().st_size / written),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg-dsn", default=harness.DEFAULT_PG)
    args = parser.parse_args()
    results: dict[str, Any] = {"load_average": os.getloadavg()[0]}
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            if backend == "sqlite":
                settings = Settings(data_dir=workdir / "data")
                results[backend] = measure(settings, args.events, workdir)
                continue
            schema = f"bench_audit_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(args.pg_dsn, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            try:
                url = f"{args.pg_dsn}?schema={schema}&pool_size=2&max_overflow=4"
                results[backend] = measure(
                    Settings(event_store=url, read_db=url, jwt_secret=SECRET), args.events, workdir
                )
            finally:
                with psycopg.connect(args.pg_dsn, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        for name, value in results[backend].items():
            print(f"{backend:8} {name:30} {value}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
