"""Rate-limit overhead: requests per second through the write API with the limiter off, in
memory and in Redis, measured in one run.

Three real servers (`slotwise write-api`, SQLite under a temporary directory) run
side by side, identical but for their limits: `off`, in memory, and in the local
Redis (generous limits, so nothing is refused). Rounds alternate between them so
a noisy machine weighs on all three alike. Each round sends, with C keep-alive
client threads:

- `GET /health`: exempt from rate limiting, so the control (should not move);
- `GET /v1/none` without a token: routed to a 404, counted per client address;
- `GET /v1/none/with-token` with a bearer token: also verified (HS256) and counted
  per token.

The overhead per request is 1/rate(limited) - 1/rate(off) for the same request
kind, from the median rates over the rounds. On a shared machine that
difference is noisy, so the script also reports what the servers themselves
measured: the `duration_ms` of each request line they logged (time spent in the
app, limiter included, without the client or the network), and times the
limiter's own `check` in this process.

Run from the repository root:

    .venv/bin/python bench/ratelimit_overhead.py [--requests 2000] [--concurrency 8]
        [--rounds 3] [--redis redis://127.0.0.1:6379/0]

Prints a table, then one JSON line with every figure. Exits 1 if a request got an
unexpected status (a 429 would mean the limits were not generous enough).
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
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from domain.actor import Role  # noqa: E402
from infra.auth import issue_token  # noqa: E402

SLOTWISE = str(Path(sys.executable).with_name("slotwise"))
GENEROUS = "100000000/minute"
KINDS = {"health": ("/health", False, 200), "anonymous": ("/v1/none", False, 404)}
KINDS["with token"] = ("/v1/none/with-token", True, 404)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(name: str, workdir: Path, secret: str, **limits: str) -> Iterator[str]:
    """A write API process with these SLOTWISE_* settings; yields its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTWISE_")}
    env.update({f"SLOTWISE_{k.upper()}": v for k, v in limits.items()})
    env.update(SLOTWISE_JWT_SECRET=secret, SLOTWISE_REDIS_PREFIX=f"bench-{secrets.token_hex(6)}")
    data = workdir / name
    with (workdir / f"{name}.log").open("wb") as log:
        process = subprocess.Popen(
            [SLOTWISE, "write-api", "--port", str(port), "--data-dir", str(data)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{name} server did not start; see {workdir / name}.log")
        yield url
    finally:
        process.terminate()  # this process, by its id
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def load(url: str, path: str, headers: dict[str, str], total: int, threads: int) -> float:
    """Requests per second for `total` GETs from `threads` keep-alive clients."""
    clients = [httpx.Client(base_url=url, headers=headers) for _ in range(threads)]
    for client in clients:
        client.get("/health")  # connect before the clock starts
    unexpected: list[int] = []
    expected = {"/health": 200}.get(path, 404)
    share = total // threads

    def worker(client: httpx.Client) -> None:
        for _ in range(share):
            status = client.get(path).status_code
            if status != expected:
                unexpected.append(status)

    pool = [threading.Thread(target=worker, args=(c,)) for c in clients]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    for client in clients:
        client.close()
    if unexpected:
        raise SystemExit(f"{len(unexpected)} unexpected answers from {url}{path}: {unexpected[:5]}")
    return share * threads / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()

    secret = secrets.token_hex(24)
    bearer = {"Authorization": f"Bearer {issue_token(secret, 'bench-customer', Role.CUSTOMER)}"}
    limits = {"rate_limit_per_token": GENEROUS, "rate_limit_per_address": GENEROUS}
    configs = {
        "off": {"rate_limit_per_token": "off", "rate_limit_per_address": "off"},
        "memory": limits,
        "redis": {**limits, "redis": args.redis},
    }
    rates: dict[str, dict[str, list[float]]] = {c: {k: [] for k in KINDS} for c in configs}
    with tempfile.TemporaryDirectory(prefix="slotwise-bench-") as tmp, ExitStack() as stack:
        urls = {
            name: stack.enter_context(server(name, Path(tmp), secret, **settings))
            for name, settings in configs.items()
        }
        for url in urls.values():
            load(url, "/v1/none", bearer, 200, args.concurrency)  # warm up
        for _ in range(args.rounds):
            for kind, (path, token, _) in KINDS.items():
                for config, url in urls.items():
                    headers = bearer if token else {}
                    rate = load(url, path, headers, args.requests, args.concurrency)
                    rates[config][kind].append(rate)
        served = {name: server_durations(Path(tmp) / f"{name}.log") for name in configs}
    report(rates, served, in_process(args.redis), args)


def server_durations(log: Path) -> dict[str, dict[str, float]]:
    """Median and mean `duration_ms` the server logged, per request kind."""
    durations: dict[str, list[float]] = {kind: [] for kind in KINDS}
    by_path = {path: kind for kind, (path, _, _) in KINDS.items()}
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            kind = by_path.get(entry.get("path", ""))
            if kind is not None and entry.get("logger") == "slotwise.request":
                durations[kind].append(float(entry["duration_ms"]))
    return {
        kind: {"median_ms": statistics.median(found), "mean_ms": statistics.fmean(found)}
        for kind, found in durations.items()
        if found
    }


def in_process(redis: str, calls: int = 3000) -> dict[str, dict[str, float]]:
    """Microseconds per `RateLimiter.check`, in memory and in Redis, without HTTP."""
    from infra.web.ratelimit import rate_limiter_for

    costs: dict[str, dict[str, float]] = {}
    for store, uri in (("memory", ""), ("redis", redis)):
        limiter = rate_limiter_for(uri, GENEROUS, GENEROUS, f"bench-{secrets.token_hex(6)}")
        costs[store] = {}
        for kind, subject in (("anonymous", None), ("with token", "bench-customer")):
            started = time.perf_counter()
            for _ in range(calls):
                limiter.check("127.0.0.1", subject)
            costs[store][kind] = (time.perf_counter() - started) / calls * 1e6
        limiter.reset()  # type: ignore[attr-defined]
    return costs


def report(
    rates: dict[str, dict[str, list[float]]],
    served: dict[str, dict[str, dict[str, float]]],
    check_us: dict[str, dict[str, float]],
    args: argparse.Namespace,
) -> None:
    median = {c: {k: statistics.median(v) for k, v in kinds.items()} for c, kinds in rates.items()}
    overhead = {
        c: {k: (1 / median[c][k] - 1 / median["off"][k]) * 1e6 for k in KINDS}
        for c in median
        if c != "off"
    }
    print(f"{'limiter':<8} {'request':<12} {'req/s (median)':>15} {'overhead/request':>18}")
    for config, kinds in median.items():
        for kind, rate in kinds.items():
            extra = "" if config == "off" else f"{overhead[config][kind]:+.0f} µs"
            print(f"{config:<8} {kind:<12} {rate:>15.0f} {extra:>18}")
    print()
    print(f"{'limiter':<8} {'request':<12} {'server median ms':>17} {'server mean ms':>15}")
    for config, kinds in served.items():
        for kind, figures in kinds.items():
            print(
                f"{config:<8} {kind:<12} {figures['median_ms']:>17.3f} {figures['mean_ms']:>15.3f}"
            )
    print()
    print(f"{'limiter':<8} {'check':<12} {'µs per call (in process)':>26}")
    for store, kinds in check_us.items():
        for kind, cost in kinds.items():
            print(f"{store:<8} {kind:<12} {cost:>26.1f}")
    figures = {
        "requests": args.requests,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "rates": rates,
        "median_rates": median,
        "overhead_us": overhead,
        "server_ms": served,
        "check_us": check_us,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
