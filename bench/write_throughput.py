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
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from domain.actor import Role  # noqa: E402
from infra.auth import issue_token  # noqa: E402

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FIRST_DAY, LAST_DAY = 2, 300  # bookings go on days 2..300 ahead (default policy: 365 max)
SLOTS_PER_DAY = 24 * 4  # 15-minute slots
MAX_BOOKINGS = (LAST_DAY - FIRST_DAY + 1) * SLOTS_PER_DAY
STARTUP_SECONDS = 60.0
STOP_SECONDS = 15.0
LOAD_SECONDS = 900.0
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
WARNING_LINE = re.compile(r"\w+Warning: .*")
ERROR_LINE = re.compile(r"Traceback|ERROR|Exception|\w+Error\b")


@dataclass(frozen=True)
class Call:
    """One HTTP request of a load run."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class LoadResult:
    """What a load run observed: wall time, per-request latency and status."""

    expected: int
    wall: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # the first few, for the report

    def record(self, latency_ms: float, status: int, detail: str) -> None:
        self.latencies_ms.append(latency_ms)
        self.statuses[status] += 1
        if status != self.expected and len(self.failures) < 5:
            self.failures.append(f"{status}: {detail[:300]}")

    def summary(self) -> dict[str, Any]:
        done = len(self.latencies_ms)
        cuts = statistics.quantiles(self.latencies_ms, n=100, method="inclusive")
        return {
            "requests": done,
            "wall_s": round(self.wall, 3),
            "per_s": round(done / self.wall, 1) if self.wall else 0.0,
            "p50_ms": round(cuts[49], 2),
            "p95_ms": round(cuts[94], 2),
            "p99_ms": round(cuts[98], 2),
            "unexpected": done - self.statuses[self.expected],
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "failures": self.failures,
        }


class LoadContext:
    """Shared state of the client threads: the work list, a cursor and the result."""

    def __init__(self, base_url: str, calls: list[Call], concurrency: int, expected: int) -> None:
        self.base_url, self.calls = base_url, calls
        self.result = LoadResult(expected)
        self.barrier = threading.Barrier(concurrency + 1)
        self._lock = threading.Lock()
        self._next = 0

    def take(self) -> Call | None:
        with self._lock:
            if self._next >= len(self.calls):
                return None
            self._next += 1
            return self.calls[self._next - 1]

    def record(self, latency_ms: float, status: int, detail: str) -> None:
        with self._lock:
            self.result.record(latency_ms, status, detail)


def send(client: httpx.Client, call: Call) -> tuple[float, int, str]:
    """(latency in ms, status, body excerpt); status 0 when the request itself failed."""
    began = time.perf_counter()
    try:
        response = client.request(call.method, call.path, json=call.body, headers=call.headers)
        status, detail = response.status_code, response.text
    except httpx.HTTPError as error:
        status, detail = 0, repr(error)
    return (time.perf_counter() - began) * 1000.0, status, detail


def client_thread(ctx: LoadContext) -> None:
    with httpx.Client(base_url=ctx.base_url, timeout=60.0) as client:
        try:
            client.get("/health")  # open the keep-alive connection before the clock starts
        except httpx.HTTPError:
            pass  # the timed requests will show it
        finally:
            ctx.barrier.wait(timeout=STARTUP_SECONDS)
        while (call := ctx.take()) is not None:
            ctx.record(*send(client, call))


def run_load(base_url: str, calls: list[Call], concurrency: int, expected: int) -> LoadResult:
    """Send `calls` from `concurrency` keep-alive clients; time from all-connected to done."""
    ctx = LoadContext(base_url, calls, concurrency, expected)
    threads = [threading.Thread(target=client_thread, args=(ctx,)) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    ctx.barrier.wait(timeout=STARTUP_SECONDS)
    began = time.perf_counter()
    deadline = began + LOAD_SECONDS
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.perf_counter()))
    ctx.result.wall = time.perf_counter() - began
    if any(thread.is_alive() for thread in threads):
        raise RuntimeError(f"load run did not finish within {LOAD_SECONDS:.0f}s")
    return ctx.result


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(base_url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{tail(log_path)}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not healthy after {STARTUP_SECONDS:.0f}s:\n{tail(log_path)}")


def tail(path: Path, lines: int = 30) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_SECONDS)


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


@contextmanager
def pg_schema(dsn: str) -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped (with everything in it) afterwards."""
    import psycopg
    from psycopg import sql

    name = f"slotwise_bench_{secrets.token_hex(4)}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def expect(response: httpx.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
    body: dict[str, Any] = response.json()
    return body


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


def server_log(log_path: Path) -> tuple[list[str], list[str]]:
    """(error lines, distinct warnings) of the server log; it runs at --log-level warning."""
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    errors: list[str] = []
    warnings: set[str] = set()
    for line in text.splitlines():
        if warning := WARNING_LINE.search(line):
            warnings.add(warning.group(0)[:120])
        elif ERROR_LINE.search(line):
            errors.append(line[:300])
    return errors, sorted(warnings)


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


# Throughput is measured here, not the rate limiter (bench/ratelimit_overhead.py does that):
# one client address sending thousands of bookings a minute would be refused with 429.
UNLIMITED = {"SLOTWISE_RATE_LIMIT_PER_TOKEN": "off", "SLOTWISE_RATE_LIMIT_PER_ADDRESS": "off"}


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
