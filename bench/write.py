"""Write path: SlotWise's POST /v1/bookings against a CRUD service and hello-world, same run.

On PostgreSQL (a fresh schema each for SlotWise and the CRUD baseline, dropped
at the end) this starts three servers side by side, each with --workers uvicorn
processes: `slotwise write-api`, the CRUD booking service of
bench/baselines/crud.py (same request body, same HS256 bearer check, same pool
size as the write API's event store) and the hello-world of
bench/baselines/hello.py. Then, for --rounds rounds, at each concurrency (1, 16
and 64 client threads by default), it runs --requests requests against each
server in turn, the order rotating every round so load on the shared machine
weighs on all alike: bookings without and with an `Idempotency-Key` for
SlotWise and CRUD, `GET /` for hello-world. Every booking has its own customer
token and a distinct start (no slot conflicts, the uncontended path).

Reported per server, concurrency and key mode: requests/s (median over the
rounds), p50/p95/p99 latency (all rounds' requests), unexpected statuses; and
the ratios SlotWise/CRUD and SlotWise/hello of the median rates.

    .venv/bin/python bench/write.py [--workers 1] [--concurrency 1,16,64]
        [--requests 300] [--rounds 3] [--pg-dsn postgresql://postgres@127.0.0.1:5432/test]
        [--baseline-tree PATH]

`--baseline-tree` also serves SlotWise from another checkout (say, a
`git worktree` of the commit before a change), in its own schema, through the
same rounds and rotation: the before/after ratio then comes from one run.

Prints a table, then one JSON line. Exits 1 if any answer was unexpected (a
non-201 booking, a non-200 hello) or a server logged an error.
"""

from __future__ import annotations

import argparse
import resource
import secrets
import statistics
import sys
import tempfile
import uuid
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import harness
import psycopg
from harness import Call, booking_calls, distinct_starts, fmt, progress, ratio, run_load

sys.path.insert(0, str(harness.ROOT / "bench"))
from baselines.crud import DDL

from infra.settings import Settings

WARMUP_REQUESTS = 20
HELLO, CRUD, SLOTWISE, BASELINE = "hello", "crud", "slotwise", "baseline"


def pool_defaults() -> tuple[int, int]:
    """The write API's event-store pool (size, overflow) defaults: the CRUD service's too."""
    fields = Settings.model_fields
    size = fields["event_store_pool_size"].default
    overflow = fields["event_store_max_overflow"].default
    return int(size), int(overflow)


def set_up_crud(dsn: str, schema: str) -> str:
    """The CRUD service's tables, one business (UTC, capacity 1000) and one 15-minute service."""
    business_id, service_id = str(uuid.uuid4()), str(uuid.uuid4())
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {schema}")
        conn.execute(DDL)
        conn.execute(
            "INSERT INTO crud_businesses VALUES (%s, 'bench-owner', 'UTC', 1000)", (business_id,)
        )
        conn.execute(
            "INSERT INTO crud_services VALUES (%s, %s, 'Bench service', 15, 1, 25.00, 'EUR', true)",
            (service_id, business_id),
        )
    return service_id


class Runs:
    """Every run's figures, by (server, concurrency, key mode)."""

    def __init__(self) -> None:
        self.rates: dict[tuple[str, int, bool], list[float]] = defaultdict(list)
        self.latencies: dict[tuple[str, int, bool], list[float]] = defaultdict(list)
        self.unexpected: dict[tuple[str, int, bool], int] = defaultdict(int)
        # CPU seconds spent during the runs: the server process, PostgreSQL, this client.
        self.cpu: dict[tuple[str, int, bool], list[float]] = defaultdict(lambda: [0.0] * 3)
        self.failures: list[str] = []

    def measure(self, key: tuple[str, int, bool], url: str, calls: list[Call], c: int) -> None:
        """Run the load and count the CPU time it cost each side."""
        pid = harness.SERVED[url]
        before = (harness.cpu_seconds(pid), harness.postgres_cpu_seconds(), client_cpu())
        result = run_load(url, calls, c, 200 if key[0] == HELLO else 201)
        after = (harness.cpu_seconds(pid), harness.postgres_cpu_seconds(), client_cpu())
        spent = self.cpu[key]
        for side, (start, end) in enumerate(zip(before, after, strict=True)):
            spent[side] += end - start
        self.add(key, result)

    def add(self, key: tuple[str, int, bool], result: harness.LoadResult) -> None:
        summary = result.summary()
        self.rates[key].append(summary["per_s"])
        self.latencies[key].extend(result.latencies_ms)
        self.unexpected[key] += summary["unexpected"]
        self.failures.extend(f"{key[0]} c{key[1]}: {f}" for f in summary["failures"][:2])

    def figures(self, key: tuple[str, int, bool]) -> dict[str, Any]:
        rates = self.rates[key]
        count = max(len(self.latencies[key]), 1)
        server, postgres, client = (round(1000 * s / count, 3) for s in self.cpu[key])
        return {
            "per_s": round(statistics.median(rates), 1) if rates else 0.0,
            "per_s_rounds": rates,
            "requests": len(self.latencies[key]),
            **harness.quantiles(self.latencies[key]),
            "unexpected": self.unexpected[key],
            "cpu_ms_per_request": {"server": server, "postgres": postgres, "client": client},
        }


def client_cpu() -> float:
    """CPU seconds this process (the load's client threads) has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bench(args: argparse.Namespace) -> dict[str, Any]:
    secret = secrets.token_hex(16)
    pool, overflow = args.pool_size, args.max_overflow
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="slotwise-bench-"))
        sw_schema = stack.enter_context(harness.pg_schema(args.pg_dsn))
        crud_schema = stack.enter_context(harness.pg_schema(args.pg_dsn))
        logs = {name: Path(tmp) / f"{name}.log" for name in (HELLO, CRUD, SLOTWISE, BASELINE)}
        settings = harness.pg_settings(args.pg_dsn, sw_schema, tmp, secret)
        settings["SLOTWISE_EVENT_STORE_POOL_SIZE"] = str(pool)
        settings["SLOTWISE_EVENT_STORE_MAX_OVERFLOW"] = str(overflow)
        tree: Path | None = args.baseline_tree
        progress(f"starting servers ({args.workers} worker(s) each)")
        crud_service = set_up_crud(args.pg_dsn, crud_schema)
        crud_env = {
            "CRUD_DATABASE_URL": harness.schema_url(args.pg_dsn, crud_schema),
            "CRUD_JWT_SECRET": secret,
            "CRUD_POOL_SIZE": str(pool),
            "CRUD_MAX_OVERFLOW": str(overflow),
        }
        urls = {
            SLOTWISE: stack.enter_context(
                harness.serve_slotwise("write", settings, logs[SLOTWISE], args.workers)
            ),
            CRUD: stack.enter_context(
                harness.serve_uvicorn("crud:create_app", crud_env, logs[CRUD], args.workers, True)
            ),
            HELLO: stack.enter_context(
                harness.serve_uvicorn("hello:app", {}, logs[HELLO], args.workers)
            ),
        }
        services = {SLOTWISE: harness.set_up_service(urls[SLOTWISE], secret).service_id}
        services[CRUD] = crud_service
        used = {SLOTWISE: 0, CRUD: 0, BASELINE: 0}
        booked = [SLOTWISE, CRUD]
        if tree is not None:
            base_schema = stack.enter_context(harness.pg_schema(args.pg_dsn))
            base_settings = {
                **harness.pg_settings(args.pg_dsn, base_schema, tmp, secret),
                "SLOTWISE_EVENT_STORE_POOL_SIZE": str(pool),
                "SLOTWISE_EVENT_STORE_MAX_OVERFLOW": str(overflow),
            }
            urls[BASELINE] = stack.enter_context(
                harness.serve_slotwise("write", base_settings, logs[BASELINE], args.workers, tree)
            )
            services[BASELINE] = harness.set_up_service(urls[BASELINE], secret).service_id
            booked.append(BASELINE)

        def bookings(server: str, n: int, idempotency: bool) -> list[Call]:
            starts = distinct_starts(n, used[server])
            used[server] += n
            tag = f"{used[server]}-"
            return booking_calls(services[server], secret, starts, idempotency, tag)

        progress("warming up")
        for server in booked:
            run_load(urls[server], bookings(server, WARMUP_REQUESTS, False), 4, 201)
        run_load(urls[HELLO], [Call("GET", "/")] * WARMUP_REQUESTS, 4, 200)

        runs = Runs()
        order = [*booked, HELLO]
        for round_no in range(args.rounds):
            for c in args.concurrency:
                shift = (round_no + args.concurrency.index(c)) % len(order)
                for server in order[shift:] + order[:shift]:
                    if server == HELLO:
                        calls = [Call("GET", "/")] * args.requests
                        runs.measure((HELLO, c, False), urls[HELLO], calls, c)
                        continue
                    for idem in (False, True) if round_no % 2 == 0 else (True, False):
                        calls = bookings(server, args.requests, idem)
                        runs.measure((server, c, idem), urls[server], calls, c)
                progress(f"round {round_no + 1}/{args.rounds} c={c} done")
        errors = {
            name: harness.server_log(path)[0]
            for name, path in logs.items()
            if name != BASELINE or tree is not None
        }
    return {"runs": runs, "errors": errors}


def results_of(runs: Runs, concurrency: list[int], baseline: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in concurrency:
        row: dict[str, Any] = {
            HELLO: runs.figures((HELLO, c, False)),
            SLOTWISE: runs.figures((SLOTWISE, c, False)),
            f"{SLOTWISE}_idem": runs.figures((SLOTWISE, c, True)),
            CRUD: runs.figures((CRUD, c, False)),
            f"{CRUD}_idem": runs.figures((CRUD, c, True)),
        }
        hello = row[HELLO]["per_s"]
        row["ratio_crud"] = ratio(row[SLOTWISE]["per_s"], row[CRUD]["per_s"])
        row["ratio_crud_idem"] = ratio(
            row[f"{SLOTWISE}_idem"]["per_s"], row[f"{CRUD}_idem"]["per_s"]
        )
        row["ratio_hello"] = ratio(row[SLOTWISE]["per_s"], hello, 4)
        row["ratio_hello_idem"] = ratio(row[f"{SLOTWISE}_idem"]["per_s"], hello, 4)
        row["crud_ratio_hello"] = ratio(row[CRUD]["per_s"], hello, 4)
        if baseline:
            row[BASELINE] = runs.figures((BASELINE, c, False))
            row[f"{BASELINE}_idem"] = runs.figures((BASELINE, c, True))
            row["ratio_baseline"] = ratio(row[SLOTWISE]["per_s"], row[BASELINE]["per_s"])
            row["ratio_baseline_idem"] = ratio(
                row[f"{SLOTWISE}_idem"]["per_s"], row[f"{BASELINE}_idem"]["per_s"]
            )
        out[f"c{c}"] = row
    return out


def print_table(results: dict[str, Any]) -> None:
    print(
        f"{'conc':>4} {'server':<14} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'bad':>4}  CPU ms per request: server / PostgreSQL / client"
    )
    for key, row in results.items():
        servers = (HELLO, SLOTWISE, f"{SLOTWISE}_idem", CRUD, f"{CRUD}_idem")
        servers += (BASELINE, f"{BASELINE}_idem") if BASELINE in row else ()
        for server in servers:
            r = row[server]
            cpu = r["cpu_ms_per_request"]
            print(
                f"{key:>4} {server:<14} {r['per_s']:>8.1f} {r['p50_ms']:>8.1f} "
                f"{r['p95_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['unexpected']:>4}  "
                f"{cpu['server']:.2f} / {cpu['postgres']:.2f} / {cpu['client']:.2f}"
            )
        print(
            f"{key:>4} SlotWise/CRUD {fmt(row['ratio_crud'])} "
            f"(with key {fmt(row['ratio_crud_idem'])})"
            f"; SlotWise/hello {fmt(row['ratio_hello'], '.4f')} "
            f"(with key {fmt(row['ratio_hello_idem'], '.4f')}); CRUD/hello "
            f"{fmt(row['crud_ratio_hello'], '.4f')}"
        )
        if BASELINE in row:
            print(
                f"{key:>4} SlotWise/baseline {fmt(row['ratio_baseline'])} "
                f"(with key {fmt(row['ratio_baseline_idem'])})"
            )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size, overflow = pool_defaults()
    parser.add_argument("--workers", type=int, default=1, help="uvicorn processes per server")
    parser.add_argument("--concurrency", default="1,16,64", help="client threads, comma-separated")
    parser.add_argument("--requests", type=int, default=300, help="per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pool-size", type=int, default=size, help="both servers' pool")
    parser.add_argument("--max-overflow", type=int, default=overflow, help="both servers' pool")
    parser.add_argument("--pg-dsn", default=harness.DEFAULT_PG)
    parser.add_argument(
        "--baseline-tree", type=Path, default=None, help="another checkout to serve alongside"
    )
    args = parser.parse_args(argv)
    if args.baseline_tree is not None and not (args.baseline_tree / "infra" / "cli.py").exists():
        parser.error(f"--baseline-tree {args.baseline_tree} is not a SlotWise checkout")
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if not args.concurrency or not all(1 <= c <= 256 for c in args.concurrency):
        parser.error("--concurrency takes numbers between 1 and 256")
    if not 1 <= args.workers <= 8 or args.rounds < 1 or args.requests < 1:
        parser.error("--workers 1..8, --rounds and --requests at least 1")
    total = 2 * (WARMUP_REQUESTS + args.rounds * len(args.concurrency) * args.requests)
    if total > harness.MAX_BOOKINGS:
        parser.error(f"that is {total} bookings per server; at most {harness.MAX_BOOKINGS}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    done = bench(args)
    runs: Runs = done["runs"]
    results = results_of(runs, args.concurrency, args.baseline_tree is not None)
    print_table(results)
    errors: dict[str, list[str]] = done["errors"]
    for failure in runs.failures[:10]:
        print(f"unexpected: {failure}")
    for name, lines in errors.items():
        for line in lines[:5]:
            print(f"{name} server error: {line}")
    unexpected = sum(runs.unexpected.values())
    harness.emit(
        {
            "bench": "write",
            "backend": "postgres",
            "workers": args.workers,
            "baseline_tree": str(args.baseline_tree) if args.baseline_tree else None,
            "requests_per_run": args.requests,
            "rounds": args.rounds,
            "pool": {"size": args.pool_size, "max_overflow": args.max_overflow},
            **harness.machine(),
            "results": results,
            "unexpected": unexpected,
            "server_errors": {name: len(lines) for name, lines in errors.items()},
        }
    )
    return 0 if unexpected == 0 and not any(errors.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
