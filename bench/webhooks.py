"""Webhook delivery delay: from a booking's 201 to its webhook arriving at the endpoint.

Starts `slotwise dev` (embedded stack, SQLite in a temporary directory, the
webhook worker in-process, `SLOTWISE_WEBHOOKS_ALLOW_PRIVATE=true`) as a
subprocess, subscribes a loopback receiver (tests/webhook_receiver.py) to
`slotwise.booking.placed`, books at --rate bookings per second for --seconds,
and reports p50/p99 of the delay from each 201 to the receiver's arrival.

    PYTHONPATH=. .venv/bin/python bench/webhooks.py [--rate 20] [--seconds 20]

Prints the figures, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from domain.actor import Role
from infra.auth import issue_token
from tests.webhook_receiver import Receiver

SECRET = "bench-secret-0123456789-0123456789-abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def setup(http: httpx.Client, base: str, auth: dict[str, str], hook: str) -> str:
    business = http.post(
        f"{base}/v1/businesses",
        json={"name": "Bench", "slug": "bench-hooks", "timezone": "UTC", "capacity": 1000},
        headers=auth,
    ).json()
    weekly = [{"day": d, "start": "00:00", "end": "23:59"} for d in DAYS]
    http.put(f"{base}/v1/businesses/{business['id']}/hours", json={"weekly": weekly}, headers=auth)
    service = http.post(
        f"{base}/v1/businesses/{business['id']}/services",
        json={"name": "Slot", "duration_minutes": 15, "price": {"amount": "10", "currency": "EUR"}},
        headers=auth,
    ).json()
    created = http.post(
        f"{base}/v1/businesses/{business['id']}/webhooks",
        json={"url": hook, "events": ["slotwise.booking.placed"]},
        headers=auth,
    )
    created.raise_for_status()
    return str(service["id"])


def run(write_port: int, receiver: Receiver, rate: float, seconds: float) -> dict[str, Any]:
    base = f"http://127.0.0.1:{write_port}"
    auth = {"Authorization": f"Bearer {issue_token(SECRET, 'bench-owner', Role.OWNER)}"}
    customer = {"Authorization": f"Bearer {issue_token(SECRET, 'bench-customer', Role.CUSTOMER)}"}
    sent: dict[str, float] = {}
    with httpx.Client(timeout=10) as http:
        deadline = time.monotonic() + 60
        while True:
            try:
                http.get(f"{base}/health").raise_for_status()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        service_id = setup(http, base, auth, receiver.url)
        day = (datetime.now(UTC) + timedelta(days=2)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        started = time.monotonic()
        for i in range(int(rate * seconds)):
            time.sleep(max(0.0, started + i / rate - time.monotonic()))
            start = day + timedelta(minutes=15 * (i % 90))
            answer = http.post(
                f"{base}/v1/bookings",
                json={"service_id": service_id, "start": start.isoformat()},
                headers=customer,
            )
            if answer.status_code != 201:
                raise SystemExit(f"booking refused: {answer.text}")
            sent[answer.json()["id"]] = time.monotonic()
    wait_until = time.monotonic() + 30
    while len(arrivals(receiver)) < len(sent) and time.monotonic() < wait_until:
        time.sleep(0.1)
    got = arrivals(receiver)
    delays = sorted((got[k] - v) * 1000 for k, v in sent.items() if k in got)
    return {
        "bookings": len(sent),
        "delivered": len(delays),
        "rate_per_second": rate,
        "p50_ms": round(statistics.median(delays), 1),
        "p99_ms": round(delays[max(0, int(len(delays) * 0.99) - 1)], 1),
        "max_ms": round(delays[-1], 1),
    }


def arrivals(receiver: Receiver) -> dict[str, float]:
    return {r.event["subject"]: r.at for r in receiver.delivered()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    write_port, read_port = free_port(), free_port()
    receiver = Receiver().start()
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "SLOTWISE_JWT_SECRET": SECRET,
            "SLOTWISE_RATE_LIMIT_PER_TOKEN": "off",
            "SLOTWISE_RATE_LIMIT_PER_ADDRESS": "off",
            "SLOTWISE_WEBHOOKS_ALLOW_PRIVATE": "true",
        }
        command = [sys.executable, "-m", "infra.cli", "dev", "--data-dir", data]
        command += ["--write-port", str(write_port), "--read-port", str(read_port)]
        log_path = os.environ.get("BENCH_LOG", os.devnull)  # the server's log, if wanted
        with open(log_path, "w") as log:
            server = subprocess.Popen(command, env=env, stderr=log)
            try:
                report = run(write_port, receiver, args.rate, args.seconds)
            finally:
                server.terminate()
                server.wait(timeout=30)
                receiver.stop()
    print(f"bookings / delivered: {report['bookings']} / {report['delivered']}")
    print(f"delay 201 -> webhook: p50 {report['p50_ms']} ms, p99 {report['p99_ms']} ms")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
