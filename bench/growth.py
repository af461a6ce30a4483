"""Growth: does the cost of a read or a command stay flat as the data grows?

Three parts, all on PostgreSQL (fresh schemas, dropped at the end):

1. `reads`: availability for a week and a business's bookings for a day,
   through the read API over HTTP, with --bookings-small (1,000) against
   --bookings-large (1,000,000) bookings in the read model. One write API and
   two read API processes share one event store; each read API has its own
   read-model schema. A booking placed over HTTP is the template: its
   `bookings` and `allocations` rows are cloned with bulk `INSERT ... SELECT
   ... generate_series` straight into the read-model tables. **This seeds the
   projection, not the event log**: it measures the read side's queries, not a
   rebuild. Both schemas get the same rows for the measured business's next
   300 days (--bookings-small in all); the large one also gets the rest: half
   on the same business in the past ten years, half on 1,000 other
   businesses. Rounds alternate between the two read APIs; each request asks for
   a different window (the answer is never a cache hit within a round) and
   before each round the business is renamed (a new business version, waited
   for on both read APIs) and the allocation stamps changed, so every round
   starts cold.
2. `history`: command latency with ~10 against ~10,000 events in the
   aggregates a command loads: runs bench/history_growth.py (in-process
   commands on PostgreSQL, snapshots as configured) and keeps its figures.
3. `day`: `POST /v1/bookings` latency over HTTP on a business-day that already
   holds 10 bookings against one holding 1,000 (two businesses, the measured
   bookings alternating between them).

    .venv/bin/python bench/growth.py [--parts reads,history,day]
        [--bookings-small 1000] [--bookings-large 1000000] [--requests 100] [--rounds 3]
        [--events 10000] [--history-commands 100] [--day-small 10] [--day-large 1000]

Prints a table and the large/small ratios (issue 9's goal: at most 1.5), then
one JSON line. Exits 1 if a request failed.
"""

from __future__ import annotations

import argparse
import json
import math
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import harness
import httpx
import psycopg
from harness import Call, expect, progress, ratio, run_load
from psycopg import sql

from domain.actor import Role
from infra.auth import issue_token

GOAL_RATIO = 1.5
SEED_CHUNK = 100_000
FUTURE_DAYS = 300  # the measured business's seeded bookings: days 2..301 ahead
OTHER_BUSINESSES = 1000


# ---------------------------------------------------------------- part 1: reads


def columns(conn: psycopg.Connection[Any], schema: str, table: str) -> list[str]:
    found = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
        "AND table_name = %s ORDER BY ordinal_position",
        (schema, table),
    ).fetchall()
    return [str(row[0]) for row in found]


def clone(
    conn: psycopg.Connection[Any],
    schema: str,
    table: str,
    key: str,
    template: str,
    first: int,
    last: int,
    overrides: dict[str, str],
) -> None:
    """Insert rows g = first..last, copies of the template row with `overrides` (SQL over t, g).

    Columns are read from the live table, so a column added by a later change is copied
    from the template unless overridden.
    """
    names = columns(conn, schema, table)
    exprs = [
        # `%` is psycopg's placeholder mark: the overrides' modulo signs are doubled
        sql.SQL(overrides[name].replace("%", "%%"))
        if name in overrides
        else sql.SQL("t.{}").format(sql.Identifier(name))
        for name in names
    ]
    statement = sql.SQL(
        "INSERT INTO {table} ({cols}) SELECT {exprs} FROM {table} t "
        "CROSS JOIN generate_series(%s::bigint, %s::bigint) g WHERE t.{key} = %s"
    ).format(
        table=sql.Identifier(schema, table),
        cols=sql.SQL(", ").join(sql.Identifier(n) for n in names),
        exprs=sql.SQL(", ").join(exprs),
        key=sql.Identifier(key),
    )
    conn.execute(statement, (first, last, template))


def seed_overrides(tag: str, day: str, minute: str, business: str, service: str) -> dict[str, str]:
    """Column overrides for cloned bookings/allocations rows; times moved to `day`/`minute`."""
    start = (
        "(date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') "
        f"+ make_interval(days => ({day})::int, mins => ({minute})::int)"
    )
    ident = f"md5('{tag}-' || g)::uuid::text"
    return {
        "id": ident,
        "booking_id": ident,
        "business_id": business,
        "service_id": service,
        "customer_id": "'seed-customer-' || (g % 10000)",
        "start": start,
        "end": f'{start} + (t."end" - t.start)',
        "occupied_start": f"{start} + (t.occupied_start - t.start)",
        "occupied_end": f"{start} + (t.occupied_end - t.start)",
        "local_date": f"to_char(({start}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
    }


def seed(dsn: str, schema: str, template: str, first: int, last: int, base: bool) -> None:
    """Rows first..last: the measured business's future (base) or the growth (not base)."""
    if base:
        day, minute = f"2 + g % {FUTURE_DAYS}", f"15 * ((g / {FUTURE_DAYS}) % 96)"
        overrides = seed_overrides("base", day, minute, "t.business_id", "t.service_id")
    else:
        other = f"md5('other-' || (g % {OTHER_BUSINESSES}))::uuid::text"
        day = "CASE WHEN g % 2 = 1 THEN -(1 + (g / 2) % 3650) ELSE 2 + (g / 2) % 365 END"
        minute = "15 * ((g / 7300) % 96)"
        business = f"CASE WHEN g % 2 = 1 THEN t.business_id ELSE {other} END"
        service = f"CASE WHEN g % 2 = 1 THEN t.service_id ELSE {other} END"
        overrides = seed_overrides("more", day, minute, business, service)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for low in range(first, last + 1, SEED_CHUNK):
            high = min(last, low + SEED_CHUNK - 1)
            with conn.transaction():
                clone(conn, schema, "bookings", "id", template, low, high, overrides)
                clone(conn, schema, "allocations", "booking_id", template, low, high, overrides)
            if last - first >= SEED_CHUNK:
                progress(f"  {schema}: {high - first + 1} of {last - first + 1} rows")
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, "bookings")))
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, "allocations")))


def count(dsn: str, schema: str, table: str) -> int:
    with psycopg.connect(dsn) as conn:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
        row = conn.execute(query).fetchone()
        return int(row[0]) if row else 0


def cool(dsn: str, schemas: list[str]) -> None:
    """New allocation stamps: any availability answer cached from before is unreachable."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for schema in schemas:
            table = sql.Identifier(schema, "availability_stamps")
            query = sql.SQL("UPDATE {} SET stamp = substr(md5(random()::text), 1, 32)")
            conn.execute(query.format(table))


@dataclass
class Reads:
    """What part 1 needs to run its rounds."""

    write: str
    reads: dict[str, str]  # size -> read API URL
    business: str
    service: str
    owner: str


def rename(setup: Reads, n: int) -> None:
    """A new business version, waited for on every read API (its token, the default wait)."""
    headers = {"Authorization": f"Bearer {setup.owner}"}
    answer = httpx.patch(
        f"{setup.write}/v1/businesses/{setup.business}",
        json={"name": f"Bench {n}"},
        headers=headers,
        timeout=30,
    )
    token = expect(answer, 200)["consistency_token"]
    for url in setup.reads.values():
        for _ in range(30):
            seen = httpx.get(
                f"{url}/v1/businesses/{setup.business}",
                headers={"X-Consistency-Token": str(token)},
                timeout=30,
            )
            if seen.status_code == 200:
                break
        else:
            raise RuntimeError(f"{url} did not catch up with the rename: {seen.text}")


def read_calls(setup: Reads, n: int, offset: int) -> dict[str, list[Call]]:
    owner = {"Authorization": f"Bearer {setup.owner}"}
    today = harness.midnight_utc().date()
    week, day = [], []
    for i in range(n):
        first = today + timedelta(days=2 + (offset + i) % (FUTURE_DAYS - 7))
        last = first + timedelta(days=6)
        week.append(
            Call("GET", f"/v1/services/{setup.service}/availability?from={first}&to={last}")
        )
        path = f"/v1/businesses/{setup.business}/bookings?from={first}&to={first}"
        day.append(Call("GET", path, headers=owner))
    return {"availability_week": week, "bookings_day": day}


@contextmanager
def read_stacks(
    tmp: str, secret: str, dsn: str
) -> Iterator[tuple[str, dict[str, str], dict[str, str]]]:
    """One event store, one write API, a read API per size; yields (write, reads, schemas)."""
    with ExitStack() as stack:
        events = stack.enter_context(harness.pg_schema(dsn))
        settings = harness.pg_settings(dsn, events, tmp, secret, True)
        write = stack.enter_context(
            harness.serve_slotwise("write", settings, Path(tmp) / "write.log")
        )
        reads, schemas = {}, {}
        for size in ("small", "large"):
            schemas[size] = stack.enter_context(harness.pg_schema(dsn))
            own = {**settings, "SLOTWISE_READ_DB": harness.schema_url(dsn, schemas[size])}
            log = Path(tmp) / f"read-{size}.log"
            reads[size] = stack.enter_context(harness.serve_slotwise("read", own, log))
        yield write, reads, schemas


def bench_reads(args: argparse.Namespace, secret: str, tmp: str) -> dict[str, Any]:
    with read_stacks(tmp, secret, args.pg_dsn) as (write, reads, schemas):
        catalogue = harness.set_up_service(write, secret, slug="growth")
        customer = issue_token(secret, "growth-template", Role.CUSTOMER, 7200)
        start = harness.distinct_starts(1)[0].isoformat()
        placed = harness.expect(
            httpx.post(
                f"{write}/v1/bookings",
                json={"service_id": catalogue.service_id, "start": start},
                headers={"Authorization": f"Bearer {customer}"},
                timeout=30,
            ),
            201,
        )
        template, token = placed["id"], str(placed["consistency_token"])
        for url in reads.values():
            seen = httpx.get(
                f"{url}/v1/bookings/{template}",
                headers={"Authorization": f"Bearer {customer}", "X-Consistency-Token": token},
                timeout=30,
            )
            expect(seen, 200)
        began = time.monotonic()
        for size, schema in schemas.items():
            progress(f"reads: seeding {args.bookings_small - 1} base rows into {size}")
            seed(args.pg_dsn, schema, template, 1, args.bookings_small - 1, base=True)
        extra = args.bookings_large - args.bookings_small
        progress(f"reads: seeding {extra} more rows into large (chunks of {SEED_CHUNK})")
        seed(args.pg_dsn, schemas["large"], template, 1, extra, base=False)
        seed_s = time.monotonic() - began
        sizes = {size: count(args.pg_dsn, schema, "bookings") for size, schema in schemas.items()}
        progress(f"reads: seeded in {seed_s:.0f}s: {sizes}")
        setup = Reads(
            write, reads, catalogue.business_id, catalogue.service_id, catalogue.owner_token
        )
        latencies: dict[tuple[str, str], list[float]] = {}
        unexpected = 0
        failures: list[str] = []
        for size in reads:  # warm-up, not counted
            for calls in read_calls(setup, 5, 0).values():
                run_load(reads[size], calls, 1, 200)
        for round_no in range(args.rounds):
            rename(setup, round_no)
            cool(args.pg_dsn, list(schemas.values()))
            order = ["small", "large"] if round_no % 2 == 0 else ["large", "small"]
            offset = round_no * args.requests
            for size in order:
                for query, calls in read_calls(setup, args.requests, offset).items():
                    result = run_load(reads[size], calls, 1, 200)
                    latencies.setdefault((size, query), []).extend(result.latencies_ms)
                    summary = result.summary()
                    unexpected += summary["unexpected"]
                    failures.extend(summary["failures"][:2])
            progress(f"reads: round {round_no + 1}/{args.rounds} done")
    out: dict[str, Any] = {"rows": sizes, "seed_s": round(seed_s, 1), "unexpected": unexpected}
    for query in ("availability_week", "bookings_day"):
        small = harness.quantiles(latencies[("small", query)])
        large = harness.quantiles(latencies[("large", query)])
        out[query] = {
            "small": small,
            "large": large,
            "ratio_p50": ratio(large["p50_ms"], small["p50_ms"], 2),
            "ratio_p95": ratio(large["p95_ms"], small["p95_ms"], 2),
        }
    out["failures"] = failures[:5]
    return out


# ---------------------------------------------------------------- part 2: history


def bench_history(args: argparse.Namespace) -> dict[str, Any]:
    """bench/history_growth.py on PostgreSQL; its figures, and the worst old/young p50 ratio."""
    command = [sys.executable, str(harness.ROOT / "bench" / "history_growth.py")]
    command += ["--backends", "postgres", "--events", str(args.events)]
    command += ["--commands", str(args.history_commands), "--unsnapshotted-commands", "0"]
    command += ["--pg-dsn", args.pg_dsn]
    progress(f"history: running bench/history_growth.py --events {args.events}")
    done = subprocess.run(command, cwd=harness.ROOT, capture_output=True, text=True, timeout=3600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": f"exit {done.returncode}: {done.stderr[-500:]}"}
    result = json.loads(lines[-1])
    on = result["postgres"]["snapshots_on"]
    per_kind = {kind: figures["ratio"]["p50"] for kind, figures in on.items()}
    worst = max(per_kind.items(), key=lambda item: item[1] or 0.0)
    return {
        "events": args.events,
        "snapshot_interval": result.get("snapshot_interval"),
        "ratio_p50": per_kind,
        "worst_ratio_p50": worst[1],
        "worst_command": worst[0],
        "commands": {
            kind: {"young_p50_ms": f["young"]["p50_ms"], "old_p50_ms": f["old"]["p50_ms"]}
            for kind, f in on.items()
        },
    }


# ---------------------------------------------------------------- part 3: a busy day


def bench_day(args: argparse.Namespace, secret: str, tmp: str) -> dict[str, Any]:
    slots = 24 * 12  # a 5-minute service
    most = max(args.day_small, args.day_large) + args.requests * args.rounds + 1
    seats = math.ceil(most / slots)
    day = harness.midnight_utc() + timedelta(days=10)
    with ExitStack() as stack:
        schema = stack.enter_context(harness.pg_schema(args.pg_dsn))
        settings = harness.pg_settings(args.pg_dsn, schema, tmp, secret, True)
        write = stack.enter_context(
            harness.serve_slotwise("write", settings, Path(tmp) / "day-write.log")
        )
        sizes = {"small": args.day_small, "large": args.day_large}
        services, placed = {}, {}
        for size, n in sizes.items():
            catalogue = harness.set_up_service(
                write, secret, slug=f"day-{size}", seats=seats, minutes=5
            )
            services[size] = catalogue.service_id
            progress(f"day: placing {n} bookings on one day ({size})")
            starts = [day + timedelta(minutes=5 * (i % slots)) for i in range(n)]
            calls = harness.booking_calls(services[size], secret, starts, tag=f"pre-{size}-")
            filled = run_load(write, calls, 4, 201).summary()
            if filled["unexpected"]:
                raise RuntimeError(f"could not fill the day: {filled['failures']}")
            placed[size] = n
        latencies: dict[str, list[float]] = {"small": [], "large": []}
        unexpected, failures = 0, []
        for round_no in range(args.rounds):
            order = ["small", "large"] if round_no % 2 == 0 else ["large", "small"]
            for size in order:
                begin = placed[size]
                starts = [
                    day + timedelta(minutes=5 * (i % slots))
                    for i in range(begin, begin + args.requests)
                ]
                calls = harness.booking_calls(
                    services[size], secret, starts, tag=f"m{round_no}-{size}-"
                )
                result = run_load(write, calls, 1, 201)
                placed[size] += args.requests
                latencies[size].extend(result.latencies_ms)
                summary = result.summary()
                unexpected += summary["unexpected"]
                failures.extend(summary["failures"][:2])
            progress(f"day: round {round_no + 1}/{args.rounds} done")
    small, large = harness.quantiles(latencies["small"]), harness.quantiles(latencies["large"])
    return {
        "bookings_on_day": sizes,
        "seats": seats,
        "small": small,
        "large": large,
        "ratio_p50": ratio(large["p50_ms"], small["p50_ms"], 2),
        "ratio_p95": ratio(large["p95_ms"], small["p95_ms"], 2),
        "unexpected": unexpected,
        "failures": failures[:5],
    }


# ---------------------------------------------------------------- report


def print_table(parts: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    f = harness.fmt
    print(
        f"{'part':<26} {'small p50':>10} {'p95':>8} {'large p50':>10} {'p95':>8} {'ratio p50':>9}"
    )
    reads = parts.get("reads")
    if reads and "availability_week" in reads:
        for query in ("availability_week", "bookings_day"):
            r = reads[query]
            print(
                f"{query:<26} {r['small']['p50_ms']:>10.2f} {r['small']['p95_ms']:>8.2f} "
                f"{r['large']['p50_ms']:>10.2f} {r['large']['p95_ms']:>8.2f} "
                f"{f(r['ratio_p50'], '.2f'):>9}"
            )
        print(f"  read-model bookings rows: {reads['rows']} (seeded in {reads['seed_s']}s)")
    day = parts.get("day")
    if day and "small" in day:
        print(
            f"{'place booking, busy day':<26} {day['small']['p50_ms']:>10.2f} "
            f"{day['small']['p95_ms']:>8.2f} {day['large']['p50_ms']:>10.2f} "
            f"{day['large']['p95_ms']:>8.2f} {f(day['ratio_p50'], '.2f'):>9}"
        )
        print(f"  bookings already on the day: {day['bookings_on_day']}")
    history = parts.get("history")
    if history and "ratio_p50" in history:
        for kind, value in history["ratio_p50"].items():
            c = history["commands"][kind]
            print(
                f"{'history ' + kind:<26} {c['young_p50_ms']:>10.2f} {'':>8} "
                f"{c['old_p50_ms']:>10.2f} {'':>8} {f(value, '.2f'):>9}"
            )
        print(f"  ~10 vs {history['events']} events per aggregate (bench/history_growth.py)")
    for name, part in parts.items():
        if "error" in part:
            print(f"{name}: error: {part['error']}")
        for failure in part.get("failures", []):
            print(f"{name}: unexpected answer {failure}")
    print(f"goal: every ratio <= {GOAL_RATIO}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="reads,history,day", help="comma-separated")
    parser.add_argument("--bookings-small", type=int, default=1000)
    parser.add_argument("--bookings-large", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100, help="per size, query and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=10_000, help="history: old aggregates")
    parser.add_argument("--history-commands", type=int, default=100)
    parser.add_argument("--day-small", type=int, default=10)
    parser.add_argument("--day-large", type=int, default=1000)
    parser.add_argument("--pg-dsn", default=harness.DEFAULT_PG)
    args = parser.parse_args(argv)
    args.parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    if not args.parts or not set(args.parts) <= {"reads", "history", "day"}:
        parser.error("--parts takes reads, history, day")
    if not 2 <= args.bookings_small < args.bookings_large:
        parser.error("need 2 <= --bookings-small < --bookings-large")
    if args.requests > FUTURE_DAYS - 7 or args.requests < 2 or args.rounds < 1:
        parser.error(f"--requests between 2 and {FUTURE_DAYS - 7}, --rounds at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    secret = secrets.token_hex(16)
    parts: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="slotwise-bench-") as tmp:
        for part in args.parts:
            try:
                if part == "reads":
                    parts[part] = bench_reads(args, secret, tmp)
                elif part == "history":
                    parts[part] = bench_history(args)
                else:
                    parts[part] = bench_day(args, secret, tmp)
            except (RuntimeError, httpx.HTTPError, psycopg.Error) as error:
                parts[part] = {"error": repr(error)[:1000]}
        errors = [line for log in Path(tmp).glob("*.log") for line in harness.server_log(log)[0]]
    print_table(parts, args)
    ratios = [
        parts.get("reads", {}).get("availability_week", {}).get("ratio_p50"),
        parts.get("reads", {}).get("bookings_day", {}).get("ratio_p50"),
        parts.get("history", {}).get("worst_ratio_p50"),
        parts.get("day", {}).get("ratio_p50"),
    ]
    measured = [r for r in ratios if r is not None]
    harness.emit(
        {
            "bench": "growth",
            "goal_ratio": GOAL_RATIO,
            "bookings_small": args.bookings_small,
            "bookings_large": args.bookings_large,
            "requests": args.requests,
            "rounds": args.rounds,
            **harness.machine(),
            **parts,
            "worst_ratio": max(measured) if measured else None,
            "server_errors": len(errors),
            "server_error_excerpt": errors[:5],
        }
    )
    failed = any("error" in p or p.get("unexpected") for p in parts.values())
    return 1 if failed or errors else 0


if __name__ == "__main__":
    sys.exit(main())
