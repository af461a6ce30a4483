"""Shared helpers of the benchmark scripts: processes, schemas, load runs, statistics.

Every script under bench/ starts real server processes on loopback ports,
drives them over HTTP with `httpx`, prints a table and then one JSON line
starting with `{`. The helpers here make sure that servers are stopped (by
their pid), PostgreSQL schemas dropped and temporary directories removed,
also when a run fails.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
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
# Throughput is measured, not the rate limiter (bench/ratelimit_overhead.py does that):
# one client address sending thousands of requests a minute would be refused with 429.
UNLIMITED = {"SLOTWISE_RATE_LIMIT_PER_TOKEN": "off", "SLOTWISE_RATE_LIMIT_PER_ADDRESS": "off"}
# For processes whose throughput is not what is measured (lag, growth): the machine's
# PostgreSQL allows 100 connections for everyone, so overflow stays small.
SMALL_POOLS = {
    "SLOTWISE_EVENT_STORE_MAX_OVERFLOW": "1",
    "SLOTWISE_READ_DB_MAX_OVERFLOW": "1",
    "SLOTWISE_EVENT_STORE_TABLES_MAX_OVERFLOW": "1",
}


def progress(message: str) -> None:
    """Progress goes to stderr, so stdout holds only the table and the JSON line."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- load runs


@dataclass(frozen=True)
class Call:
    """One HTTP request of a load run."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def quantiles(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99 (ms, inclusive method) of a non-empty list; zeros for an empty one."""
    if not values:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
    if len(values) == 1:
        only = round(values[0], 2)
        return {"p50_ms": only, "p95_ms": only, "p99_ms": only}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49], 2),
        "p95_ms": round(cuts[94], 2),
        "p99_ms": round(cuts[98], 2),
    }


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
        return {
            "requests": done,
            "wall_s": round(self.wall, 3),
            "per_s": round(done / self.wall, 1) if self.wall else 0.0,
            **quantiles(self.latencies_ms),
            "unexpected": done - self.statuses[self.expected],
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "failures": self.failures,
        }


class LoadContext:
    """Shared state of the client threads: the work list, a cursor and the result."""

    def __init__(self, base_url: str, calls: list[Call], concurrency: int, expected: int) -> None:
        self.base_url, self.calls = base_url, calls
        self.result = LoadResult(expected)
        # The clock starts in the barrier's action, run once all have arrived and before any
        # is released: a main thread descheduled after the barrier (a loaded machine) would
        # start it late, after the clients did the work. It stops at the last client's end.
        self.began = 0.0
        self.ended = 0.0
        self.barrier = threading.Barrier(concurrency + 1, action=self._start)
        self._lock = threading.Lock()
        self._next = 0

    def _start(self) -> None:
        self.began = time.perf_counter()

    def done(self) -> None:
        with self._lock:
            self.ended = max(self.ended, time.perf_counter())

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


def client_thread(ctx: LoadContext, warm_path: str) -> None:
    with httpx.Client(base_url=ctx.base_url, timeout=60.0) as client:
        try:
            client.get(warm_path)  # open the keep-alive connection before the clock starts
        except httpx.HTTPError:
            pass  # the timed requests will show it
        finally:
            ctx.barrier.wait(timeout=STARTUP_SECONDS)
        while (call := ctx.take()) is not None:
            ctx.record(*send(client, call))
        ctx.done()


def run_load(
    base_url: str, calls: list[Call], concurrency: int, expected: int, warm_path: str = "/health"
) -> LoadResult:
    """Send `calls` from `concurrency` keep-alive clients; time from all-connected to done."""
    ctx = LoadContext(base_url, calls, concurrency, expected)
    threads = [
        threading.Thread(target=client_thread, args=(ctx, warm_path), daemon=True)
        for _ in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    ctx.barrier.wait(timeout=STARTUP_SECONDS)
    deadline = time.perf_counter() + LOAD_SECONDS
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.perf_counter()))
    if any(thread.is_alive() for thread in threads):
        raise RuntimeError(f"load run did not finish within {LOAD_SECONDS:.0f}s")
    ctx.result.wall = ctx.ended - ctx.began
    return ctx.result


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 30) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def wait_healthy(
    base_url: str, proc: subprocess.Popen[bytes], log_path: Path, path: str = "/health"
) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{tail(log_path)}")
        try:
            if httpx.get(f"{base_url}{path}", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not healthy after {STARTUP_SECONDS:.0f}s:\n{tail(log_path)}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process we started (by its pid), SIGKILL if it does not go."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_SECONDS)


# The process id serving each base URL this run started (for its CPU time).
SERVED: dict[str, int] = {}
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (all its threads) and of its children that
    have ended, from /proc; 0.0 where there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / TICK


def postgres_cpu_seconds() -> float:
    """CPU time of every `postgres` process on this machine, with that of its ended children
    (a backend that exits hands its time to the postmaster's children's time, so the sum
    only grows); other clients of the same server count too."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text:
            total += sum(int(f) for f in text.rsplit(")", 1)[1].split()[11:15]) / TICK
    return total


@contextmanager
def process(
    command: list[str],
    env: dict[str, str],
    log_path: Path,
    base_url: str | None = None,
    health_path: str = "/health",
    cwd: Path = ROOT,
) -> Iterator[subprocess.Popen[bytes]]:
    """A child process logging to `log_path`; waits for `base_url` to answer; always stopped."""
    with log_path.open("ab") as log:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            if base_url is not None:
                wait_healthy(base_url, proc, log_path, health_path)
                SERVED[base_url] = proc.pid
            yield proc
        finally:
            stop(proc)


def base_env(settings: dict[str, str]) -> dict[str, str]:
    """The environment of a SlotWise process: no Kafka or Redis unless the settings say so."""
    return {**os.environ, "SLOTWISE_KAFKA": "", "SLOTWISE_REDIS": "", **UNLIMITED, **settings}


def slotwise_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "infra.cli", *args]


@contextmanager
def serve_slotwise(
    api: str, settings: dict[str, str], log_path: Path, workers: int = 1, tree: Path = ROOT
) -> Iterator[str]:
    """`slotwise write-api` or `slotwise read-api` on a free port; yields its base URL. `tree`:
    another checkout of SlotWise to run instead (its code, this interpreter)."""
    port = free_port()
    command = slotwise_command(f"{api}-api", "--port", str(port), "--workers", str(workers))
    base_url = f"http://127.0.0.1:{port}"
    env = base_env(settings)
    if tree != ROOT:  # `python -m` puts the working directory first on the path
        env["PYTHONPATH"] = str(tree)
    with process(command, env, log_path, base_url, cwd=tree):
        yield base_url


@contextmanager
def serve_uvicorn(
    app: str, env: dict[str, str], log_path: Path, workers: int = 1, factory: bool = False
) -> Iterator[str]:
    """A plain uvicorn app from bench/baselines on a free port; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--app-dir", str(ROOT / "bench" / "baselines")]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command += ["--no-access-log"]
    if factory:
        command.append("--factory")
    if workers > 1:
        command += ["--workers", str(workers)]
    base_url = f"http://127.0.0.1:{port}"
    with process(command, {**os.environ, **env}, log_path, base_url, "/health"):
        yield base_url


def server_log(log_path: Path) -> tuple[list[str], list[str]]:
    """(error lines, distinct warnings) of a server log."""
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    errors: list[str] = []
    warnings: set[str] = set()
    for line in text.splitlines():
        if warning := WARNING_LINE.search(line):
            warnings.add(warning.group(0)[:120])
        elif ERROR_LINE.search(line):
            errors.append(line[:300])
    return errors, sorted(warnings)


# ---------------------------------------------------------------- PostgreSQL


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


def schema_url(dsn: str, schema: str) -> str:
    return f"{dsn}{'&' if '?' in dsn else '?'}schema={schema}"


def pg_settings(
    dsn: str, schema: str, data_dir: str, secret: str, small_pools: bool = False
) -> dict[str, str]:
    url = schema_url(dsn, schema)
    return {
        **(SMALL_POOLS if small_pools else {}),
        "SLOTWISE_DATA_DIR": data_dir,
        "SLOTWISE_EVENT_STORE": url,
        "SLOTWISE_READ_DB": url,
        "SLOTWISE_JWT_SECRET": secret,
    }


def sqlite_settings(data_dir: str, secret: str) -> dict[str, str]:
    return {
        "SLOTWISE_DATA_DIR": data_dir,
        "SLOTWISE_EVENT_STORE": f"sqlite:///{data_dir}/events.sqlite",
        "SLOTWISE_READ_DB": f"sqlite:///{data_dir}/read.sqlite",
        "SLOTWISE_JWT_SECRET": secret,
    }


# ---------------------------------------------------------------- SlotWise set-up


def expect(response: httpx.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
    body: dict[str, Any] = response.json()
    return body


@dataclass(frozen=True)
class Catalogue:
    """A business open around the clock and one service of it, made over HTTP."""

    business_id: str
    service_id: str
    owner_token: str


def set_up_service(
    base_url: str,
    secret: str,
    slug: str = "bench",
    capacity: int = 1000,
    seats: int = 1,
    minutes: int = 15,
) -> Catalogue:
    """Register a business (UTC) open 00:00-24:00 every day and a service of it."""
    owner = issue_token(secret, "bench-owner", Role.OWNER, 7200)
    headers = {"Authorization": f"Bearer {owner}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30.0) as client:
        business = {"name": "Bench", "slug": slug, "timezone": "UTC", "capacity": capacity}
        business_id = str(expect(client.post("/v1/businesses", json=business), 201)["id"])
        weekly = [{"day": day, "start": "00:00", "end": "24:00"} for day in DAYS]
        expect(client.put(f"/v1/businesses/{business_id}/hours", json={"weekly": weekly}), 200)
        service = {
            "name": "Bench service",
            "duration_minutes": minutes,
            "price": {"amount": "25.00", "currency": "EUR"},
            "seats": seats,
            "slot_interval_minutes": minutes,
        }
        path = f"/v1/businesses/{business_id}/services"
        service_id = str(expect(client.post(path, json=service), 201)["id"])
    return Catalogue(business_id, service_id, owner)


def midnight_utc() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def distinct_starts(n: int, offset: int = 0) -> list[datetime]:
    """N distinct 15-minute starts: round-robin over days 2..300 ahead, then the next slot.

    `offset` skips the first starts, so several runs against one service never collide.
    """
    if offset + n > MAX_BOOKINGS:
        raise ValueError(f"at most {MAX_BOOKINGS} distinct starts")
    midnight = midnight_utc()
    span = LAST_DAY - FIRST_DAY + 1
    starts = []
    for i in range(offset, offset + n):
        day, slot = FIRST_DAY + i % span, i // span
        starts.append(midnight + timedelta(days=day, minutes=15 * slot))
    return starts


def booking_calls(
    service_id: str,
    secret: str,
    starts: Sequence[datetime],
    idempotency: bool = False,
    tag: str = "",
) -> list[Call]:
    """One POST /v1/bookings per start, each by a distinct customer token."""
    calls = []
    for i, start in enumerate(starts):
        token = issue_token(secret, f"bench-customer-{tag}{i}", Role.CUSTOMER, 7200)
        headers = {"Authorization": f"Bearer {token}"}
        if idempotency:
            headers["Idempotency-Key"] = f"bench-{tag}{i}-{secrets.token_hex(8)}"
        body = {"service_id": service_id, "start": start.isoformat()}
        calls.append(Call("POST", "/v1/bookings", body, headers))
    return calls


# ---------------------------------------------------------------- reporting


def ratio(numerator: float | None, denominator: float | None, digits: int = 3) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, digits)


def fmt(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def machine() -> dict[str, Any]:
    """What every JSON line carries about the run."""
    try:
        load = list(os.getloadavg())
    except OSError:
        load = []
    return {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "loadavg": [round(x, 2) for x in load],
    }


def emit(report: dict[str, Any]) -> None:
    """The one JSON line (after the table) that bench/suite.py collects."""
    print(json.dumps(report, default=str), flush=True)
