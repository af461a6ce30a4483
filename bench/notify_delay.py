"""Notification delay: from the write API's 201 to the SMTP server accepting the email.

PostgreSQL (a fresh schema, dropped at the end) with `slotwise write-api` and
`slotwise notify` as two processes; an SMTP server (aiosmtpd) in this process
records when each message arrived (just before it answers 250). Bookings go
out on an open-loop schedule (booking i leaves at t0 + i/rate, whatever the
earlier ones are doing) after a few warm-up bookings, each by its own
customer with its own `contact.email`, so the customer's email names its
booking. A booking's delay runs from its 201's arrival to the arrival of the
email to its customer (the email to the business is counted too).

    .venv/bin/python bench/notify_delay.py [--rate 20] [--seconds 10] [--poll 0.25]

Prints a table, then one JSON line. Exits 1 if a booking failed or an email
did not arrive within --timeout seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import harness
import httpx
from aiosmtpd.controller import Controller
from harness import progress

from domain.actor import Role
from infra.auth import issue_token

WARMUP_BOOKINGS = 5
DESK = "desk@bench.example"


class Arrivals:
    """An SMTP handler noting when each recipient's message was accepted (monotonic s)."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.monotonic()
        with self.lock:
            self.count += 1
            for to in envelope.rcpt_tos:
                self.at.setdefault(to.lower(), now)
        return "250 OK"


def customer_address(n: int) -> str:
    return f"customer-{n}@bench.example"


async def book(
    client: httpx.AsyncClient, service_id: str, secret: str, n: int, start: str
) -> tuple[int, float]:
    """(status, monotonic time of the answer) of one booking by customer n."""
    token = issue_token(secret, f"bench-customer-{n}", Role.CUSTOMER, 7200)
    contact = {"name": f"Customer {n}", "email": customer_address(n), "locale": "en"}
    body = {"service_id": service_id, "start": start, "contact": contact}
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"notify-bench-{n}"}
    try:
        response = await client.post("/v1/bookings", json=body, headers=headers)
        status = response.status_code
    except httpx.HTTPError:
        status = 0
    return status, time.monotonic()


async def open_loop(
    write: str, service_id: str, secret: str, rate: float, count: int, first: int
) -> dict[int, tuple[int, float]]:
    """Booking first+i leaves at t0 + i/rate; returns n -> (status, answered at)."""
    starts = harness.distinct_starts(first + count)
    answers: dict[int, tuple[int, float]] = {}
    async with httpx.AsyncClient(base_url=write, timeout=30.0) as client:
        await client.get("/health")
        t0 = time.monotonic()

        async def one(i: int) -> None:
            n = first + i
            await asyncio.sleep(max(0.0, t0 + i / rate - time.monotonic()))
            answers[n] = await book(client, service_id, secret, n, starts[n].isoformat())

        await asyncio.gather(*(one(i) for i in range(count)))
    return answers


def wait_for(arrivals: Arrivals, addresses: list[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with arrivals.lock:
            if all(a in arrivals.at for a in addresses):
                return True
        time.sleep(0.02)
    return False


def run(args: argparse.Namespace) -> dict[str, Any]:
    secret = secrets.token_hex(32)
    arrivals = Arrivals()
    smtp = Controller(arrivals, hostname="127.0.0.1", port=harness.free_port())
    smtp.start()
    try:
        with tempfile.TemporaryDirectory() as tmp, harness.pg_schema(args.dsn) as schema:
            settings = harness.pg_settings(args.dsn, schema, tmp, secret, small_pools=True)
            notify_env = harness.base_env(
                {
                    **settings,
                    "SLOTWISE_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
                    "SLOTWISE_MAIL_FROM": "Bench <bookings@bench.example>",
                    "SLOTWISE_NOTIFY_POLL_SECONDS": str(args.poll),
                }
            )
            write_log, notify_log = Path(tmp) / "write.log", Path(tmp) / "notify.log"
            with harness.serve_slotwise("write", settings, write_log) as write:
                catalogue = harness.set_up_service(write, secret, slug="notify-bench")
                path = f"/v1/businesses/{catalogue.business_id}/notifications"
                owner = {"Authorization": f"Bearer {catalogue.owner_token}"}
                body = {"notify_email": DESK, "reminders": []}
                harness.expect(httpx.put(write + path, json=body, headers=owner), 200)
                command = harness.slotwise_command("notify")
                with harness.process(command, notify_env, notify_log):
                    return measure(args, write, catalogue.service_id, secret, arrivals)
    finally:
        smtp.stop()


def measure(
    args: argparse.Namespace, write: str, service_id: str, secret: str, arrivals: Arrivals
) -> dict[str, Any]:
    progress("warm-up: the worker starts and sends its first emails")
    warm = asyncio.run(open_loop(write, service_id, secret, 5.0, WARMUP_BOOKINGS, 0))
    if not wait_for(arrivals, [customer_address(n) for n in warm], args.timeout + 60):
        raise SystemExit("warm-up emails never arrived")
    count = int(args.rate * args.seconds)
    progress(f"{count} bookings at {args.rate:g}/s")
    answers = asyncio.run(open_loop(write, service_id, secret, args.rate, count, WARMUP_BOOKINGS))
    ok = [n for n, (status, _) in answers.items() if status == 201]
    arrived = wait_for(arrivals, [customer_address(n) for n in ok], args.timeout)
    delays = [
        (arrivals.at[customer_address(n)] - answers[n][1]) * 1000.0
        for n in ok
        if customer_address(n) in arrivals.at
    ]
    expected_messages = 2 * (len(ok) + len(warm))
    wait_for_count(arrivals, expected_messages, 10.0)
    return {
        "bench": "notify_delay",
        "stack": "postgres: write-api + notify processes",
        "rate": args.rate,
        "bookings": count,
        "created": len(ok),
        "emailed": len(delays),
        "messages": arrivals.count,
        "expected_messages": expected_messages,
        "poll_seconds": args.poll,
        "all_arrived": arrived,
        **harness.quantiles(delays),
        "max_ms": round(max(delays), 2) if delays else 0.0,
        **harness.machine(),
    }


def wait_for_count(arrivals: Arrivals, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while arrivals.count < count and time.monotonic() < deadline:
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--poll", type=float, default=0.25, help="SLOTWISE_NOTIFY_POLL_SECONDS")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument(
        "--dsn", default=os.environ.get("SLOTWISE_BENCH_POSTGRES", harness.DEFAULT_PG)
    )
    report = run(parser.parse_args())
    print(f"{'rate/s':>7} {'bookings':>8} {'emailed':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    print(
        f"{report['rate']:>7g} {report['created']:>8} {report['emailed']:>8} "
        f"{report['p50_ms']:>8.1f} {report['p99_ms']:>8.1f} {report['max_ms']:>8.1f}"
    )
    messages = f"{report['messages']} of {report['expected_messages']}"
    print(f"messages {messages}; load average {report['loadavg']}")
    harness.emit(report)
    if report["created"] < report["bookings"] or not report["all_arrived"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
