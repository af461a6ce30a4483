"""Read throughput: availability (cached and uncached) and a day's bookings against /health.

For each backend (embedded SQLite files, PostgreSQL schemas) this starts one
write API and two read API processes on loopback, all on one event store: the
read API "cached" with the read cache on (memory, as the embedded stack runs
it), the read API "uncached" with SLOTWISE_READ_CACHE=false, each following
the event store into its own read database. It seeds over HTTP a business
(Europe/Berlin, open 08:00-20:00 every day, capacity 3) with a 30-minute
service on a 15-minute grid and --bookings bookings spread over the measured
week, waits until both read APIs reflect them, then measures in alternating
rounds, each with the same clients and concurrency:

- `health`: GET /health of the cached process (the hello-world baseline);
- `availability_cached`: GET availability for the week (7 days) on it;
- `bookings_day`: GET a business's bookings for one day (owner token) on it;
- `health_uncached`: GET /health of the uncached process;
- `availability_uncached`: the same week on the uncached process.

Each round measures a process's reads between two /health runs of that same
process; a ratio is a read's req/s over the mean of those two, and the table
shows the median over rounds (the machine is shared, neighbours are noisy).

    .venv/bin/python bench/read.py [--backends sqlite,postgres] [--requests 400]
        [--rounds 3] [--concurrency 8] [--bookings 300] [--quick]
        [--pg-dsn postgresql://postgres@127.0.0.1:5432/test] [--tree DIR]

`--tree DIR` serves the APIs from another checkout (e.g. main, for a before
figure) while this script drives them. Prints a table, then one JSON line.
Exits 1 if a request failed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import harness
import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from domain.actor import Role  # noqa: E402
from infra.auth import issue_token  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
ZONE = ZoneInfo("Europe/Berlin")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OPEN, CLOSE, CAPACITY = 8, 20, 3
STARTS_PER_DAY = (CLOSE - OPEN) * 2  # non-overlapping 30-minute starts
MEASURES = (
    "health",
    "availability_cached",
    "bookings_day",
    "health_uncached",
    "availability_uncached",
)
UNLIMITED = {"SLOTWISE_RATE_LIMIT_PER_TOKEN": "off", "SLOTWISE_RATE_LIMIT_PER_ADDRESS": "off"}


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(api: str, env: dict[str, str], tree: Path, log: Path) -> Iterator[str]:
    """`slotwise {api}-api` from `tree` on a free port; stopped by its pid afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "infra.cli", f"{api}-api", "--port", str(port)]
    full_env = {**os.environ, "SLOTWISE_KAFKA": "", "SLOTWISE_REDIS": "", **UNLIMITED, **env}
    full_env["PYTHONPATH"] = str(tree)
    url = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        proc = subprocess.Popen(command, cwd=tree, env=full_env, stdout=out, stderr=out)
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{api} API did not start:\n{log.read_text()[-2000:]}")
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def in_schema(dsn: str, schema: str) -> str:
    # Small pools: PostgreSQL allows 100 connections to everyone on this machine.
    return f"{dsn}{'&' if '?' in dsn else '?'}schema={schema}&pool_size=4&max_overflow=4"


@contextmanager
def databases(backend: str, dsn: str, data_dir: str) -> Iterator[tuple[str, str, str]]:
    """(event store, cached read DB, uncached read DB) URLs, removed afterwards."""
    if backend == "sqlite":
        yield (
            f"sqlite:///{data_dir}/events.sqlite",
            f"sqlite:///{data_dir}/read-cached.sqlite",
            f"sqlite:///{data_dir}/read-uncached.sqlite",
        )
        return
    with (
        harness.pg_schema(dsn) as events,
        harness.pg_schema(dsn) as cached,
        harness.pg_schema(dsn) as uncached,
    ):
        yield in_schema(dsn, events), in_schema(dsn, cached), in_schema(dsn, uncached)


# ---------------------------------------------------------------- seeding


def bearer(secret: str, sub: str, role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(secret, sub, role, 7200)}"}


def check(response: httpx.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
    body: dict[str, Any] = response.json()
    return body


def seed(write: str, secret: str, first: date, bookings: int) -> tuple[str, str, str]:
    """Business, service and bookings over HTTP: (business id, service id, last token)."""
    owner = bearer(secret, "bench-owner", Role.OWNER)
    with httpx.Client(base_url=write, headers=owner, timeout=30) as client:
        body = {"name": "Bench", "slug": "bench-read", "timezone": str(ZONE), "capacity": CAPACITY}
        business = str(check(client.post("/v1/businesses", json=body), 201)["id"])
        weekly = [{"day": d, "start": f"{OPEN:02d}:00", "end": f"{CLOSE}:00"} for d in DAYS]
        check(client.put(f"/v1/businesses/{business}/hours", json={"weekly": weekly}), 200)
        service = {
            "name": "Cut",
            "duration_minutes": 30,
            "slot_interval_minutes": 15,
            "price": {"amount": "30.00", "currency": "EUR"},
        }
        answer = check(client.post(f"/v1/businesses/{business}/services", json=service), 201)
    service_id, token = str(answer["id"]), str(answer["consistency_token"])
    if bookings > 7 * STARTS_PER_DAY * CAPACITY:
        raise ValueError(f"at most {7 * STARTS_PER_DAY * CAPACITY} bookings fit the week")
    tokens: list[str] = []

    def place(numbers: range) -> None:
        with httpx.Client(base_url=write, timeout=30) as client:
            for n in numbers:
                day, slot = first + timedelta(days=n % 7), (n // 7) % STARTS_PER_DAY
                start = datetime.combine(day, clock_time(OPEN), ZONE) + timedelta(minutes=30 * slot)
                customer = bearer(secret, f"bench-customer-{n}", Role.CUSTOMER)
                body = {"service_id": service_id, "start": start.isoformat()}
                placed = check(client.post("/v1/bookings", json=body, headers=customer), 201)
                tokens.append(str(placed["consistency_token"]))

    threads = [threading.Thread(target=place, args=(range(i, bookings, 4),)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return business, service_id, str(max([int(token), *map(int, tokens)]))


def wait_for(read: str, paths: list[str], headers: dict[str, str], token: str) -> None:
    """Until the read API answers every path after the write with `token` (each waits 2 s)."""
    deadline = time.monotonic() + 120
    for path in paths:
        while True:
            answer = httpx.get(
                f"{read}{path}", headers={**headers, "X-Consistency-Token": token}, timeout=30
            )
            if answer.status_code == 200:
                break
            if answer.status_code != 503 or time.monotonic() > deadline:
                raise RuntimeError(f"{path}: {answer.status_code} {answer.text}")


# ---------------------------------------------------------------- load


def load(url: str, path: str, headers: dict[str, str], n: int, clients: int) -> dict[str, Any]:
    """N GETs of `path` from `clients` keep-alive clients: req/s and latency (ms)."""
    latencies: list[float] = []
    failures: list[str] = []
    left = iter(range(n))
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)

    def client() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            http.get("/health")
            ready.wait()
            while True:
                with lock:
                    if next(left, None) is None:
                        return
                began = time.perf_counter()
                answer = http.get(path)
                took = (time.perf_counter() - began) * 1000
                with lock:
                    latencies.append(took)
                    if answer.status_code != 200:
                        failures.append(f"{answer.status_code} {answer.text[:200]}")

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    return {"per_s": n / wall, "latencies": latencies, "failures": failures}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    secret = secrets.token_hex(32)
    first = datetime.now(ZONE).date() + timedelta(days=2)
    week = f"from={first.isoformat()}&to={(first + timedelta(days=6)).isoformat()}"
    with ExitStack() as stack:
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="slotwise-bench-"))
        events, cached_db, uncached_db = stack.enter_context(
            databases(backend, args.pg_dsn, data_dir)
        )
        log = Path(data_dir) / "servers.log"
        common = {"SLOTWISE_DATA_DIR": data_dir, "SLOTWISE_JWT_SECRET": secret}
        common["SLOTWISE_EVENT_STORE"] = events
        write = stack.enter_context(serve("write", {**common}, args.tree, log))
        cached = stack.enter_context(
            serve("read", {**common, "SLOTWISE_READ_DB": cached_db}, args.tree, log)
        )
        uncached_env = {**common, "SLOTWISE_READ_DB": uncached_db, "SLOTWISE_READ_CACHE": "false"}
        uncached = stack.enter_context(serve("read", uncached_env, args.tree, log))
        progress(f"{backend}: seeding {args.bookings} bookings")
        business, service, token = seed(write, secret, first, args.bookings)
        owner = bearer(secret, "bench-owner", Role.OWNER)
        availability = f"/v1/services/{service}/availability?{week}"
        day = f"/v1/businesses/{business}/bookings?from={first.isoformat()}&to={first.isoformat()}"
        for read in (cached, uncached):
            wait_for(read, [availability, day], owner, token)
        # Each process's measures sit between two /health runs of that process: every
        # ratio compares figures taken next to each other on a machine others share.
        blocks = [
            (cached, [("availability_cached", availability, {}), ("bookings_day", day, owner)]),
            (uncached, [("availability_uncached", availability, {})]),
        ]
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in MEASURES}
        by_round: dict[str, list[float]] = {}
        for number in range(args.rounds):
            for url, measures in blocks:
                health = "health" if url == cached else "health_uncached"
                before = load(url, "/health", {}, args.requests, args.concurrency)
                for name, path, headers in measures:
                    run = load(url, path, headers, args.requests, args.concurrency)
                    rounds[name].append(run)
                    by_round.setdefault(name, []).append(run["per_s"])
                after = load(url, "/health", {}, args.requests, args.concurrency)
                rounds[health] += [before, after]
                baseline = (before["per_s"] + after["per_s"]) / 2
                for name, _, _ in measures:
                    by_round[name][-1] /= baseline
            progress(f"{backend}: round {number + 1}/{args.rounds} done")
        slots = len(httpx.get(f"{cached}{availability}").json()["slots"])
        listed = len(httpx.get(f"{cached}{day}", headers=owner).json()["items"])
    figures = {}
    for name, runs in rounds.items():
        latencies = [x for run in runs for x in run["latencies"]]
        figures[name] = {
            "per_s": round(statistics.median(run["per_s"] for run in runs), 1),
            "p50_ms": round(percentile(latencies, 0.50), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "failures": [f for run in runs for f in run["failures"]][:5],
        }
    ratios = {f"{name}_vs_health": round(statistics.median(r), 3) for name, r in by_round.items()}
    return {"figures": figures, "ratios": ratios, "slots_in_week": slots, "bookings_in_day": listed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--bookings", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="150 requests, 2 rounds")
    parser.add_argument("--pg-dsn", default=DEFAULT_PG)
    parser.add_argument("--tree", type=Path, default=ROOT, help="serve from this checkout")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.rounds = 150, 2
    results = {b: run_backend(b, args) for b in args.backends.split(",")}
    print(f"{'backend':9} {'measure':23} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for backend, result in results.items():
        for name, figure in result["figures"].items():
            print(
                f"{backend:9} {name:23} {figure['per_s']:8.1f} "
                f"{figure['p50_ms']:8.2f} {figure['p99_ms']:8.2f}"
            )
        for name, value in result["ratios"].items():
            print(f"{backend:9} {name:23} {value:8.3f}")
    report = {
        "bench": "read",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "tree": str(args.tree),
        "requests": args.requests,
        "rounds": args.rounds,
        "concurrency": args.concurrency,
        "bookings": args.bookings,
        "targets": {"availability_cached_vs_health": 0.5, "availability_uncached_vs_health": 0.15},
        "results": results,
    }
    print(json.dumps(report), flush=True)
    failed = any(f["failures"] for r in results.values() for f in r["figures"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
