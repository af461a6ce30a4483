"""Lag: how long after the write API's 201 a booking is visible in the read API.

Bookings are sent at a steady rate (an open-loop schedule: booking i leaves at
t0 + i/rate whatever the earlier ones are doing; 20 and 50 per second by
default, --seconds each, after a short warm-up). Each 201 carries the booking's consistency
token; one prober asks the read API for the pending booking with the lowest
token (`GET /v1/bookings/{id}` with `X-Consistency-Token`, the read API set to
wait 0 s: 503 until the projection reached it, then 200), sleeping --poll-ms
after a 503 and asking again at once after a 200, which settles every pending
booking up to that token. A booking's lag is from its 201's arrival to the
arrival of the 200 that settled it: an upper bound (one read round trip and up
to --poll-ms of probing granularity included). The read API itself never waits
or nudges its follower, and the probe load stays one request at a time.

Bookings carry an `Idempotency-Key`, so one whose keep-alive connection broke
is sent again (once, counted as `retried`).

Stacks (`--stacks`, comma-separated):
- `embedded`: `slotwise dev`, one process serving both APIs and running the
  projectors on SQLite files in a temporary directory (the write API's in-process
  nudge reaches the follower);
- `postgres`: PostgreSQL (a fresh schema, dropped at the end) with the write API
  and the read API (and its follower) as two separate processes;
- `kafka` (or `--kafka`): runs bench/kafka_lag.py (Tansu broker, relay, two
  projector workers, Redis) at the same rates and folds its figures in.

    .venv/bin/python bench/lag.py [--rates 20,50] [--seconds 10] [--poll-ms 2]
        [--stacks embedded,postgres] [--kafka] [--sequential 200]

Prints a table, then one JSON line. Exits 1 if a booking failed or never became
visible within --visible-timeout seconds.

`--sequential N` adds a run of N bookings sent one at a time: each is sent only
once the previous one was seen (or given up after --visible-timeout), and probed
for every --poll-ms until it is. It measures the lag of a lone write on an idle
stack (issue 19's "one booking at a time"); its row reads `seq` for the rate.

`--read-wait S` runs the stacks as a client uses them: the read API waits up to S
seconds for a read's token (`SLOTWISE_CONSISTENCY_WAIT_SECONDS`) and answers
when the follower's pass that reached it ends, so a probe is one read that
answers 200 (no polling, no probing granularity); the rows read `wait`. The
time from a 201 to that 200 is what a client that reads its own write waits.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import harness
import httpx
from harness import progress

from domain.actor import Role
from infra.auth import issue_token

WARMUP_BOOKINGS = 10
# A booking waiting to be seen: (its consistency token, when its 201 came, id, auth header).
Pending = tuple[int, float, str, dict[str, str]]
# A read carrying a consistency token answers at once: 200 if the read models reached it,
# 503 if not. The prober, not the read API, does the waiting (and nobody nudges the follower).
NO_WAIT = {"SLOTWISE_CONSISTENCY_WAIT_SECONDS": "0"}


@contextmanager
def embedded(tmp: str, secret: str, wait: dict[str, str]) -> Iterator[tuple[str, str]]:
    """`slotwise dev` on two free ports; yields (write URL, read URL)."""
    write_port, read_port = harness.free_port(), harness.free_port()
    command = harness.slotwise_command(
        "dev", "--data-dir", tmp, "--write-port", str(write_port), "--read-port", str(read_port)
    )
    env = harness.base_env({**harness.sqlite_settings(tmp, secret), **wait})
    write, read = f"http://127.0.0.1:{write_port}", f"http://127.0.0.1:{read_port}"
    log = Path(tmp) / "dev.log"
    with harness.process(command, env, log, write) as proc:
        harness.wait_healthy(read, proc, log)
        yield write, read


@contextmanager
def separate(tmp: str, secret: str, dsn: str, wait: dict[str, str]) -> Iterator[tuple[str, str]]:
    """A PostgreSQL schema, `slotwise write-api` and `slotwise read-api` as two processes."""
    with ExitStack() as stack:
        schema = stack.enter_context(harness.pg_schema(dsn))
        settings = {**harness.pg_settings(dsn, schema, tmp, secret, True), **wait}
        write_log, read_log = Path(tmp) / "write.log", Path(tmp) / "read.log"
        write = stack.enter_context(harness.serve_slotwise("write", settings, write_log))
        read = stack.enter_context(harness.serve_slotwise("read", settings, read_log))
        yield write, read


class LagRun:
    """One steady-rate run: bookings sent on schedule; one prober finds when each is visible.

    Each 201 carries the booking's consistency token (its position in the log). The
    prober asks the read API for a pending booking with its token and no waiting
    allowed (SLOTWISE_CONSISTENCY_WAIT_SECONDS=0: 503 until the bookings projection
    reached it, then 200). A 200 settles every pending booking at or below that token
    (the follower applies the log in order). It asks for the newest pending booking
    first, so when the follower keeps up one probe settles them all; when that is a
    503, a binary search over the pending ones finds the newest visible one; when
    none is, it sleeps --poll-ms. One probe in flight at a time keeps the read load
    small (a poll per booking would load the read API more the more it lags, and
    feed the lag it measures), and settling stays ahead of the follower.
    """

    def __init__(self, write: str, read: str, secret: str, service: str, args: Any) -> None:
        self.write, self.read, self.secret, self.service = write, read, secret, service
        self.poll = args.poll_ms / 1000.0
        self.read_wait = args.read_wait
        self.timeout = args.visible_timeout
        self.lags_ms: list[float] = []
        self.write_ms: list[float] = []
        self.failed: list[str] = []
        self.invisible = 0
        self.probes = 0
        self.retried = 0
        self.late_s: list[float] = []  # how late each send left against its schedule
        self.pending: list[Pending] = []  # a heap by token
        self.sent_for = 0.0

    async def one(self, wc: httpx.AsyncClient, n: int, start: str, tag: str) -> None:
        token = issue_token(self.secret, f"lag-{tag}-{n}", Role.CUSTOMER, 7200)
        headers = {"Authorization": f"Bearer {token}"}
        body = {"service_id": self.service, "start": start}
        # With a key, a POST whose connection broke (a keep-alive connection the server
        # closed as it was reused) can be sent again safely: once, and counted.
        key = {"Idempotency-Key": f"lag-{tag}-{n}-{secrets.token_hex(6)}"}
        sent = time.perf_counter()
        try:
            try:
                answer = await wc.post("/v1/bookings", json=body, headers={**headers, **key})
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError):
                self.retried += 1
                answer = await wc.post("/v1/bookings", json=body, headers={**headers, **key})
        except httpx.HTTPError as error:
            self.failed.append(repr(error)[:200])
            return
        acked = time.perf_counter()
        if answer.status_code != 201:
            self.failed.append(f"{answer.status_code}: {answer.text[:200]}")
            return
        self.write_ms.append((acked - sent) * 1000)
        position = int(answer.headers["X-Consistency-Token"])
        heapq.heappush(self.pending, (position, acked, answer.json()["id"], headers))

    async def visible(self, rc: httpx.AsyncClient, entry: Pending) -> bool | None:
        """Does the read API show this booking yet? None: the probe itself failed."""
        position, _, booking, headers = entry
        self.probes += 1
        try:
            seen = await rc.get(
                f"/v1/bookings/{booking}",
                headers={**headers, "X-Consistency-Token": str(position)},
            )
        except httpx.HTTPError:
            return None
        if seen.status_code not in (200, 503):
            self.failed.append(f"read {seen.status_code}: {seen.text[:200]}")
            return None
        return seen.status_code == 200

    def settle(self, upto: int, now: float) -> None:
        while self.pending and self.pending[0][0] <= upto:
            self.lags_ms.append((now - heapq.heappop(self.pending)[1]) * 1000)

    async def probe(self, rc: httpx.AsyncClient, sending: asyncio.Event) -> None:
        """Settle pending bookings: the newest first (one probe when the follower keeps up),
        else a binary search for the newest visible one (log2(pending) probes when behind)."""
        while sending.is_set() or self.pending:
            while self.pending and time.perf_counter() - self.pending[0][1] > self.timeout:
                heapq.heappop(self.pending)
                self.invisible += 1
            if not self.pending:
                await asyncio.sleep(self.poll)
                continue
            entries = sorted(self.pending)
            answer = await self.visible(rc, entries[-1])
            if answer:
                self.settle(entries[-1][0], time.perf_counter())
                continue
            if answer is None:  # counted; the booking stays pending until --visible-timeout
                await asyncio.sleep(self.poll)
                continue
            lo, hi, best = 0, len(entries) - 2, -1
            while lo <= hi:
                mid = (lo + hi) // 2
                if await self.visible(rc, entries[mid]):
                    best, lo = mid, mid + 1
                else:
                    hi = mid - 1
            if best >= 0:
                self.settle(entries[best][0], time.perf_counter())
            else:
                await asyncio.sleep(self.poll)

    async def run(self, rate: float, total: int, starts: list[str], tag: str) -> None:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with (
            httpx.AsyncClient(base_url=self.write, timeout=30, limits=limits) as wc,
            httpx.AsyncClient(base_url=self.read, timeout=30, limits=limits) as rc,
        ):
            await wc.get("/health")
            await rc.get("/health")
            sending = asyncio.Event()
            sending.set()
            prober = asyncio.create_task(self.probe(rc, sending))
            tasks = []
            began = time.perf_counter()
            for n in range(total):
                due = began + n / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                self.late_s.append(max(0.0, time.perf_counter() - due))
                tasks.append(asyncio.create_task(self.one(wc, n, starts[n], tag)))
            self.sent_for = time.perf_counter() - began
            await asyncio.gather(*tasks)
            sending.clear()
            await prober

    async def run_sequential(self, total: int, starts: list[str], tag: str) -> None:
        """One booking at a time: the next leaves once the previous one was seen."""
        async with (
            httpx.AsyncClient(base_url=self.write, timeout=30) as wc,
            httpx.AsyncClient(base_url=self.read, timeout=30) as rc,
        ):
            await wc.get("/health")
            await rc.get("/health")
            began = time.perf_counter()
            for n in range(total):
                await self.one(wc, n, starts[n], tag)
                while self.pending:
                    entry = self.pending[0]
                    if time.perf_counter() - entry[1] > self.timeout:
                        heapq.heappop(self.pending)
                        self.invisible += 1
                    elif await self.visible(rc, entry):
                        self.settle(entry[0], time.perf_counter())
                    else:
                        await asyncio.sleep(self.poll)
            self.sent_for = time.perf_counter() - began

    def summary(self, rate: float, total: int) -> dict[str, Any]:
        return {
            "mode": "sequential" if rate == 0 else "rate",
            "read_wait_s": self.read_wait,
            "rate_asked": rate,
            "rate_sent": round(total / self.sent_for, 1) if self.sent_for else 0.0,
            "bookings": total,
            "measured": len(self.lags_ms),
            "failed": len(self.failed),
            "invisible": self.invisible,
            **harness.quantiles(self.lags_ms),
            "max_ms": round(max(self.lags_ms, default=0.0), 2),
            "probes": self.probes,
            "retried": self.retried,
            "write_p50_ms": harness.quantiles(self.write_ms)["p50_ms"],
            "write_p99_ms": harness.quantiles(self.write_ms)["p99_ms"],
            "schedule_late_p99_ms": harness.quantiles([s * 1000 for s in self.late_s])["p99_ms"],
            "failures": self.failed[:5],
        }


def bench_stack(name: str, args: argparse.Namespace) -> dict[str, Any]:
    secret = secrets.token_hex(16)
    wait = (
        {"SLOTWISE_CONSISTENCY_WAIT_SECONDS": f"{args.read_wait:g}"} if args.read_wait else NO_WAIT
    )
    with tempfile.TemporaryDirectory(prefix="slotwise-bench-") as tmp, ExitStack() as stack:
        progress(f"{name}: starting")
        if name == "embedded":
            write, read = stack.enter_context(embedded(tmp, secret, wait))
        else:
            write, read = stack.enter_context(separate(tmp, secret, args.pg_dsn, wait))
        service = harness.set_up_service(write, secret).service_id
        total_bookings = WARMUP_BOOKINGS + sum(int(r * args.seconds) for r in args.rates)
        total_bookings += args.sequential
        starts = [s.isoformat() for s in harness.distinct_starts(total_bookings)]
        warm = LagRun(write, read, secret, service, args)
        asyncio.run(warm.run(10.0, WARMUP_BOOKINGS, starts[:WARMUP_BOOKINGS], "warm"))
        used = WARMUP_BOOKINGS
        runs = []
        for rate in args.rates:
            total = int(rate * args.seconds)
            lag = LagRun(write, read, secret, service, args)
            asyncio.run(lag.run(rate, total, starts[used : used + total], f"r{rate:g}"))
            used += total
            runs.append(lag.summary(rate, total))
            progress(f"{name}: {rate:g}/s done")
        if args.sequential:
            total = args.sequential
            lag = LagRun(write, read, secret, service, args)
            asyncio.run(lag.run_sequential(total, starts[used : used + total], "seq"))
            runs.append(lag.summary(0.0, total))
            progress(f"{name}: {total} one at a time done")
        logs = sorted(Path(tmp).glob("*.log"))
        errors = [line for log in logs for line in harness.server_log(log)[0]]
    return {"runs": runs, "server_errors": len(errors), "server_error_excerpt": errors[:5]}


def kafka_stack(args: argparse.Namespace) -> dict[str, Any]:
    """bench/kafka_lag.py at the same rates, one write API process; its JSON line folded in."""
    command = [sys.executable, str(harness.ROOT / "bench" / "kafka_lag.py")]
    command += ["--rates", ",".join(f"{r:g}" for r in args.rates), "--seconds", str(args.seconds)]
    command += ["--bulk", str(args.kafka_bulk), "--api-workers", "1", "--pg-dsn", args.pg_dsn]
    progress("kafka: running bench/kafka_lag.py")
    done = subprocess.run(command, cwd=harness.ROOT, capture_output=True, text=True, timeout=1800)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": f"exit {done.returncode}: {done.stderr[-500:]}", "runs": []}
    result: dict[str, Any] = json.loads(lines[-1])
    runs = [
        {**run, "p95_ms": None, "invisible": run["bookings"] - run["failed"] - run["measured"]}
        for run in result.pop("lag", [])
    ]
    return {"runs": runs, "kafka_lag": result, "exit": done.returncode}


def print_table(stacks: dict[str, dict[str, Any]]) -> None:
    print(
        f"{'stack':<9} {'rate':>8} {'sent/s':>7} {'n':>5} {'fail':>4} {'lost':>4} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'write p50':>9}"
    )
    for name, result in stacks.items():
        if "error" in result:
            print(f"{name:<9} error: {result['error']}")
        for r in result["runs"]:
            rate = "seq" if r.get("mode") == "sequential" else f"{r['rate_asked']:g}"
            rate += " wait" if r.get("read_wait_s") else ""
            print(
                f"{name:<9} {rate:>8} {r['rate_sent']:>7.1f} {r['bookings']:>5} "
                f"{r['failed']:>4} {r['invisible']:>4} {r['p50_ms']:>8.1f} "
                f"{harness.fmt(r.get('p95_ms'), '.1f'):>8} {r['p99_ms']:>8.1f} "
                f"{r['max_ms']:>8.1f} {harness.fmt(r.get('write_p50_ms'), '.1f'):>9}"
            )
        for failure in [f for r in result["runs"] for f in r.get("failures", [])][:5]:
            print(f"{name} failed booking: {failure}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="20,50", help="bookings per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each rate runs")
    parser.add_argument("--poll-ms", type=float, default=2.0, help="read API polling interval")
    parser.add_argument("--visible-timeout", type=float, default=10.0, help="seconds")
    parser.add_argument("--stacks", default="embedded,postgres", help="embedded, postgres, kafka")
    parser.add_argument("--kafka", action="store_true", help="add the kafka stack")
    parser.add_argument(
        "--sequential", type=int, default=0, help="also N bookings one at a time (0: none)"
    )
    parser.add_argument(
        "--read-wait", type=float, default=0.0, help="the read API waits for tokens (seconds)"
    )
    parser.add_argument("--kafka-bulk", type=int, default=500, help="kafka_lag.py --bulk")
    parser.add_argument("--pg-dsn", default=harness.DEFAULT_PG)
    args = parser.parse_args(argv)
    args.rates = [float(r) for r in args.rates.split(",") if r.strip()]
    args.stacks = [s.strip() for s in args.stacks.split(",") if s.strip()]
    if args.kafka and "kafka" not in args.stacks:
        args.stacks.append("kafka")
    if not set(args.stacks) <= {"embedded", "postgres", "kafka"} or not args.stacks:
        parser.error("--stacks takes embedded, postgres, kafka")
    if (not args.rates and not args.sequential) or min(args.rates, default=1) <= 0:
        parser.error("--rates must be positive (or empty with --sequential)")
    if args.sequential < 0 or (args.sequential and "kafka" in args.stacks):
        parser.error("--sequential takes a count and the embedded or postgres stack")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stacks = {
        name: kafka_stack(args) if name == "kafka" else bench_stack(name, args)
        for name in args.stacks
    }
    print_table(stacks)
    harness.emit(
        {
            "bench": "lag",
            "rates": args.rates,
            "seconds": args.seconds,
            "poll_ms": args.poll_ms,
            "read_wait_s": args.read_wait,
            **harness.machine(),
            "stacks": stacks,
        }
    )
    clean = all(
        "error" not in result
        and all(r["failed"] == 0 and r["invisible"] == 0 for r in result["runs"])
        for result in stacks.values()
    )
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
