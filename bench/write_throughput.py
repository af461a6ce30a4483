"""Write throughput: bookings per second through the write API over real HTTP.

For each event-store backend (SQLite file, PostgreSQL schema) this starts a real
uvicorn process on loopback, registers a business and a service over HTTP, then
places N bookings at distinct future starts from C client threads (httpx,
keep-alive, one distinct customer token per booking). As a baseline on a noisy
machine it also measures GET /health with the same clients, concurrency and N,
once before and once after the bookings, so bookings/health is comparable
between runs.

Run from the repository root:

    .venv/bin/python bench/write_throughput.py [--bookings 400] [--concurrency 8]
        [--backends sqlite,postgres] [--pg-dsn postgresql://postgres@127.0.0.1:5432/test]

Prints a table, then one JSON line with every figure. Exits 1 if any request
failed (a non-201 booking, a non-200 health check) or the server logged errors.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

# The helpers shared by the bench scripts (processes, schemas, load runs) live in harness.py.
from harness import (
    DAYS,
    DEFAULT_PG,
    FIRST_DAY,
    LAST_DAY,
    MAX_BOOKINGS,
    ROOT,
    UNLIMITED,
    Call,
    expect,
    free_port,
    pg_schema,
    run_load,
    server_log,
    stop,
    wait_healthy,
)

from domain.actor import Role
from infra.auth import issue_token


@contextmanager
def serve(settings: dict[str, str], log_path: Path) -> Iterator[str]:
    """A uvicorn write API on a free loopback port; yields its base URL; always stopped."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "write_api.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    env = {**os.environ, "SLOTWISE_KAFKA": "", "SLOTWISE_REDIS": "", **settings}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_healthy(base_url, proc, log_path)
            yield base_url
        finally:
            stop(proc)


def set_up_service(base_url: str, secret: str) -> str:
    """Register a business open around the clock, and a 15-minute service; its id."""
    owner = issue_token(secret, "bench-owner", Role.OWNER)
    headers = {"Authorization": f"Bearer {owner}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30.0) as client:
        business = {"name": "Bench", "slug": "bench", "timezone": "UTC", "capacity": 1000}
        business_id = expect(client.post("/v1/businesses", json=business), 201)["id"]
        weekly = [{"day": day, "start": "00:00", "end": "24:00"} for day in DAYS]
        expect(client.put(f"/v1/businesses/{business_id}/hours", json={"weekly": weekly}), 200)
        service = {
            "name": "Quarter hour",
            "duration_minutes": 15,
            "price": {"amount": "25.00", "currency": "EUR"},
            "seats": 1,
            "slot_interval_minutes": 15,
        }
        path = f"/v1/businesses/{business_id}/services"
        return str(expect(client.post(path, json=service), 201)["id"])


def booking_calls(n: int, service_id: str, secret: str) -> list[Call]:
    """N bookings at distinct starts: round-robin over the days, then the next slot."""
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    span = LAST_DAY - FIRST_DAY + 1
    calls = []
    for i in range(n):
        day, slot = FIRST_DAY + i % span, i // span
        start = midnight + timedelta(days=day, minutes=15 * slot)
        token = issue_token(secret, f"bench-customer-{i}", Role.CUSTOMER, 7200)
        body = {"service_id": service_id, "start": start.isoformat()}
        calls.append(Call("POST", "/v1/bookings", body, {"Authorization": f"Bearer {token}"}))
    return calls


def bench_backend(name: str, settings: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    """Health before, bookings, health after, all against one fresh server."""
    secret = settings["SLOTWISE_JWT_SECRET"]
    log_path = Path(settings["SLOTWISE_DATA_DIR"]) / "server.log"
    with serve(settings, log_path) as base_url:
        service_id = set_up_service(base_url, secret)
        bookings = booking_calls(args.bookings, service_id, secret)
        health = [Call("GET", "/health")] * args.bookings
        before = run_load(base_url, health, args.concurrency, 200).summary()
        placed = run_load(base_url, bookings, args.concurrency, 201).summary()
        after = run_load(base_url, health, args.concurrency, 200).summary()
    health_per_s = (before["per_s"] + after["per_s"]) / 2
    errors, warnings = server_log(log_path)
    return {
        "backend": name,
        "bookings": placed,
        "health_before": before,
        "health_after": after,
        "bookings_per_health": round(placed["per_s"] / health_per_s, 4) if health_per_s else 0,
        "server_errors": len(errors),
        "server_error_excerpt": errors[:10],
        "server_warnings": warnings,
    }


def run_sqlite(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="slotwise-bench-") as tmp:
        settings = {
            "SLOTWISE_DATA_DIR": tmp,
            "SLOTWISE_EVENT_STORE": f"sqlite:///{tmp}/events.sqlite",
            "SLOTWISE_READ_DB": f"sqlite:///{tmp}/read.sqlite",
            "SLOTWISE_JWT_SECRET": secrets.token_hex(16),
            **UNLIMITED,
        }
        return bench_backend("sqlite", settings, args)


def run_postgres(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="slotwise-bench-") as tmp, pg_schema(args.pg_dsn) as s:
        url = f"{args.pg_dsn}{'&' if '?' in args.pg_dsn else '?'}schema={s}"
        settings = {
            "SLOTWISE_DATA_DIR": tmp,
            "SLOTWISE_EVENT_STORE": url,
            "SLOTWISE_READ_DB": url,
            "SLOTWISE_JWT_SECRET": secrets.token_hex(16),
            **UNLIMITED,
        }
        return bench_backend("postgres", settings, args)


def print_table(results: dict[str, dict[str, Any]]) -> None:
    head = f"{'backend':<9} {'phase':<14} {'n':>5} {'bad':>4} {'wall s':>8} {'req/s':>8}"
    print(head + f" {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, result in results.items():
        for phase in ("health_before", "bookings", "health_after"):
            r = result[phase]
            print(
                f"{name:<9} {phase:<14} {r['requests']:>5} {r['unexpected']:>4} "
                f"{r['wall_s']:>8.2f} {r['per_s']:>8.1f} {r['p50_ms']:>8.1f} "
                f"{r['p95_ms']:>8.1f} {r['p99_ms']:>8.1f}"
            )
        print(
            f"{name:<9} bookings/health = {result['bookings_per_health']:.3f}; "
            f"server log errors: {result['server_errors']}"
        )
    for name, result in results.items():
        for phase in ("health_before", "bookings", "health_after"):
            for failure in result[phase]["failures"]:
                print(f"{name} {phase} unexpected response {failure}")
        for line in result["server_error_excerpt"]:
            print(f"{name} server error: {line}")
        for line in result["server_warnings"]:
            print(f"{name} server warning: {line}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=400, help="bookings (and health GETs)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated")
    parser.add_argument("--pg-dsn", default=DEFAULT_PG, help="database for the schema")
    args = parser.parse_args(argv)
    if not 2 <= args.bookings <= MAX_BOOKINGS:
        parser.error(f"--bookings must be between 2 and {MAX_BOOKINGS}")
    if not 1 <= args.concurrency <= 256:
        parser.error("--concurrency must be between 1 and 256")
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not args.backends or not set(args.backends) <= {"sqlite", "postgres"}:
        parser.error("--backends takes sqlite, postgres or both")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    runners = {"sqlite": run_sqlite, "postgres": run_postgres}
    results = {name: runners[name](args) for name in args.backends}
    print_table(results)
    report = {
        "bench": "write_throughput",
        "bookings": args.bookings,
        "concurrency": args.concurrency,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        **results,
    }
    print(json.dumps(report))
    clean = all(
        r[phase]["unexpected"] == 0 and r["server_errors"] == 0
        for r in results.values()
        for phase in ("health_before", "bookings", "health_after")
    )
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
