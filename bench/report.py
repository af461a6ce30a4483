"""Render a suite result (build/bench/suite-*.json) as the figures of docs/benchmarks.md.

    .venv/bin/python bench/report.py                    # the newest suite file, to stdout
    .venv/bin/python bench/report.py build/bench/suite-20261121T150000Z.json --write

`--write` replaces what lies between `<!-- suite:begin -->` and
`<!-- suite:end -->` in docs/benchmarks.md. Every issue-9 target is marked met,
missed or not measured (its script missing, failed or silent on that figure).

What it reads from each script's JSON line (so the scripts and this stay in step):

- write.py: `results.c16.ratio_crud`, `results.c16.ratio_hello`, and per
  `results.c<N>`: `hello`, `slotwise`, `slotwise_idem`, `crud`, `crud_idem`
  (each `per_s`, `p50_ms`, `p95_ms`, `p99_ms`);
- read.py: `results.<sqlite|postgres>.figures.<health|availability_cached|
  availability_uncached|bookings_day>` (each `per_s`, `p50_ms`, `p99_ms`) and
  `results.<backend>.ratios.<availability_cached_vs_health|
  availability_uncached_vs_health|bookings_day_vs_health>`;
- lag.py: `stacks.<embedded|postgres|kafka>.runs[]` with `rate_asked`,
  `p50_ms`, `p95_ms`, `p99_ms`;
- rebuild.py: `results.<postgres|sqlite>` with `events`, `decode_per_s`,
  `runner_per_s`, `rebuild_per_s`, `vs_runner`, `vs_decode` (the targets read
  PostgreSQL's when there, else SQLite's);
- growth.py: `reads.<availability_week|bookings_day>.ratio_p50`,
  `history.worst_ratio_p50`, `day.ratio_p50`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- suite:begin -->", "<!-- suite:end -->"
Json = dict[str, Any]


def dig(data: Any, *path: str | int) -> Any:
    """data[path[0]][path[1]]...; None as soon as a step is missing."""
    for step in path:
        if isinstance(data, dict) and isinstance(step, str):
            data = data.get(step)
        elif (
            isinstance(data, list | tuple)
            and isinstance(step, int)
            and -len(data) <= step < len(data)
        ):
            data = data[step]
        else:
            return None
    return data


def num(value: Any, spec: str = ".2f") -> str:
    return format(value, spec) if isinstance(value, int | float) else "-"


def result_of(suite: Json, name: str) -> Json | None:
    found = dig(suite, "runs", name, "result")
    return found if isinstance(found, dict) else None


# ---------------------------------------------------------------- targets


READ_BACKENDS = ("sqlite", "postgres")


def read_ratio(read: Json | None, backend: str, figure: str) -> float | None:
    """A read figure's rate over `/health` of the same process, from bench/read.py."""
    ratio = dig(read, "results", backend, "ratios", f"{figure}_vs_health")
    return float(ratio) if isinstance(ratio, int | float) else None


def rebuild_backend(rebuild: Json | None) -> tuple[str, Json] | None:
    results = dig(rebuild, "results")
    if not isinstance(results, dict) or not results:
        return None
    name = "postgres" if "postgres" in results else next(iter(results))
    return name, results[name]


def lag_p99(lag: Json | None, stack: str, rate: float) -> float | None:
    for run in dig(lag, "stacks", stack, "runs") or []:
        if run.get("rate_asked") == rate:
            value = run.get("p99_ms")
            return float(value) if isinstance(value, int | float) else None
    return None


def growth_reads(growth: Json | None) -> float | None:
    values = [dig(growth, "reads", q, "ratio_p50") for q in ("availability_week", "bookings_day")]
    found = [v for v in values if isinstance(v, int | float)]
    return max(found) if found else None


# (target, goal text, how to read the figure, the test, the unit shown)
Target = tuple[str, str, Callable[[Json], float | None], Callable[[float], bool], str]
TARGETS: list[Target] = [
    (
        "write c16: SlotWise / CRUD",
        "≥ 2.0x",
        lambda s: dig(result_of(s, "write"), "results", "c16", "ratio_crud"),
        lambda v: v >= 2.0,
        "x",
    ),
    (
        "write c16: SlotWise / hello-world",
        "≥ 0.10x",
        lambda s: dig(result_of(s, "write"), "results", "c16", "ratio_hello"),
        lambda v: v >= 0.10,
        "x",
    ),
    (
        "cached availability (week) / hello-world, SQLite",
        "≥ 0.5x",
        lambda s: read_ratio(result_of(s, "read"), "sqlite", "availability_cached"),
        lambda v: v >= 0.5,
        "x",
    ),
    (
        "cached availability (week) / hello-world, PostgreSQL",
        "≥ 0.5x",
        lambda s: read_ratio(result_of(s, "read"), "postgres", "availability_cached"),
        lambda v: v >= 0.5,
        "x",
    ),
    (
        "uncached availability (week) / hello-world, SQLite",
        "≥ 0.15x",
        lambda s: read_ratio(result_of(s, "read"), "sqlite", "availability_uncached"),
        lambda v: v >= 0.15,
        "x",
    ),
    (
        "uncached availability (week) / hello-world, PostgreSQL",
        "≥ 0.15x",
        lambda s: read_ratio(result_of(s, "read"), "postgres", "availability_uncached"),
        lambda v: v >= 0.15,
        "x",
    ),
    (
        "rebuild / ProjectionRunner",
        "≥ 20x",
        lambda s: dig(rebuild_backend(result_of(s, "rebuild")), 1, "vs_runner"),
        lambda v: v >= 20.0,
        "x",
    ),
    (
        "rebuild / raw read + decode",
        "≥ 0.3x",
        lambda s: dig(rebuild_backend(result_of(s, "rebuild")), 1, "vs_decode"),
        lambda v: v >= 0.3,
        "x",
    ),
    (
        "lag p99 at 50/s, embedded",
        "≤ 20 ms",
        lambda s: lag_p99(result_of(s, "lag"), "embedded", 50.0),
        lambda v: v <= 20.0,
        " ms",
    ),
    (
        "lag p99 at 50/s, PostgreSQL, separate processes",
        "≤ 50 ms",
        lambda s: lag_p99(result_of(s, "lag"), "postgres", 50.0),
        lambda v: v <= 50.0,
        " ms",
    ),
    (
        "growth: 1M vs 1k bookings, read p50 (worse query)",
        "≤ 1.5x",
        lambda s: growth_reads(result_of(s, "growth")),
        lambda v: v <= 1.5,
        "x",
    ),
    (
        "growth: 10k vs 10 events, command p50 (worst command)",
        "≤ 1.5x",
        lambda s: dig(result_of(s, "growth"), "history", "worst_ratio_p50"),
        lambda v: v <= 1.5,
        "x",
    ),
]


def targets(suite: Json) -> list[str]:
    lines = ["| target | goal | measured | |", "|---|---|---|---|"]
    for name, goal, read, test, unit in TARGETS:
        value = read(suite)
        if isinstance(value, int | float):
            shown = f"{value:.3g}{unit}" if unit == "x" else f"{value:.1f}{unit}"
            verdict = "**met**" if test(float(value)) else "missed"
        else:
            shown, verdict = "-", "not measured"
        lines.append(f"| {name} | {goal} | {shown} | {verdict} |")
    return lines


# ---------------------------------------------------------------- figures


def write_figures(write: Json) -> list[str]:
    lines = [
        "| clients | hello req/s | CRUD | CRUD + key | SlotWise | SlotWise + key "
        "| SW/CRUD | SW/CRUD + key | SW/hello | p50 / p99 ms SW | p50 / p99 ms CRUD |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, row in (write.get("results") or {}).items():
        rates = [
            num(dig(row, s, "per_s"), ".0f")
            for s in ("hello", "crud", "crud_idem", "slotwise", "slotwise_idem")
        ]
        sw, crud = row.get("slotwise", {}), row.get("crud", {})
        lines.append(
            f"| {key[1:]} | {' | '.join(rates)} | {num(row.get('ratio_crud'))} "
            f"| {num(row.get('ratio_crud_idem'))} | {num(row.get('ratio_hello'), '.3f')} "
            f"| {num(sw.get('p50_ms'), '.1f')} / {num(sw.get('p99_ms'), '.1f')} "
            f"| {num(crud.get('p50_ms'), '.1f')} / {num(crud.get('p99_ms'), '.1f')} |"
        )
    lines.append("")
    lines.append(
        f"{write.get('workers')} uvicorn process(es) per server, {write.get('requests_per_run')} "
        f"requests per run, {write.get('rounds')} rounds (median req/s), pool "
        f"{dig(write, 'pool', 'size')} + {dig(write, 'pool', 'max_overflow')} overflow each."
    )
    return lines


def read_figures(read: Json) -> list[str]:
    lines = [
        "| backend | query | req/s | p50 ms | p99 ms | / hello |",
        "|---|---|---|---|---|---|",
    ]
    for backend in READ_BACKENDS:
        figures = dig(read, "results", backend, "figures")
        if not isinstance(figures, dict):
            continue
        for name in ("health", "availability_cached", "availability_uncached", "bookings_day"):
            f = figures.get(name)
            if not isinstance(f, dict):
                continue
            ratio = 1.0 if name == "health" else read_ratio(read, backend, name)
            lines.append(
                f"| {backend} | {name} | {num(f.get('per_s'), '.0f')} | {num(f.get('p50_ms'))} "
                f"| {num(f.get('p99_ms'))} | {num(ratio, '.3f')} |"
            )
    lines.append(
        f"{read.get('requests')} requests x {read.get('concurrency')} clients x "
        f"{read.get('rounds')} rounds; a week of "
        f"{dig(read, 'results', 'postgres', 'slots_in_week')} "
        f"slots; a day of {dig(read, 'results', 'postgres', 'bookings_in_day')} bookings."
    )
    return lines


def lag_figures(lag: Json) -> list[str]:
    lines = [
        "| stack | rate asked /s | sent /s | bookings | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for stack, result in (lag.get("stacks") or {}).items():
        if "error" in result:
            lines.append(f"| {stack} | error: {str(result['error'])[:80]} | | | | | | |")
        for run in result.get("runs", []):
            lines.append(
                f"| {stack} | {num(run.get('rate_asked'), 'g')} "
                f"| {num(run.get('rate_sent'), '.1f')} "
                f"| {run.get('bookings')} | {num(run.get('p50_ms'), '.1f')} "
                f"| {num(run.get('p95_ms'), '.1f')} | {num(run.get('p99_ms'), '.1f')} "
                f"| {num(run.get('max_ms'), '.1f')} |"
            )
    lines.append("")
    lines.append(
        f"{lag.get('seconds')} s per rate, probe interval {lag.get('poll_ms')} ms; lag is "
        "from the 201's arrival to the arrival of the read that saw it (an upper bound)."
    )
    return lines


def rebuild_figures(rebuild: Json) -> list[str]:
    lines = [
        "| backend | events | read + decode /s | ProjectionRunner /s | rebuild /s "
        "| x Runner | x decode |",
        "|---|---|---|---|---|---|---|",
    ]
    for backend, r in (rebuild.get("results") or {}).items():
        lines.append(
            f"| {backend} | {r.get('events')} | {num(r.get('decode_per_s'), ',.0f')} "
            f"| {num(r.get('runner_per_s'), ',.0f')} | {num(r.get('rebuild_per_s'), ',.0f')} "
            f"| {num(r.get('vs_runner'), '.1f')} | {num(r.get('vs_decode'))} |"
        )
    return lines


def growth_figures(growth: Json) -> list[str]:
    lines = [
        "| what | small | p50 ms | p95 ms | large | p50 ms | p95 ms | ratio p50 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = dig(growth, "reads", "rows") or {}
    for query in ("availability_week", "bookings_day"):
        r = dig(growth, "reads", query)
        if isinstance(r, dict):
            lines.append(
                f"| {query} (HTTP) | {rows.get('small')} bookings "
                f"| {num(dig(r, 'small', 'p50_ms'))} "
                f"| {num(dig(r, 'small', 'p95_ms'))} | {rows.get('large')} bookings "
                f"| {num(dig(r, 'large', 'p50_ms'))} | {num(dig(r, 'large', 'p95_ms'))} "
                f"| {num(r.get('ratio_p50'))} |"
            )
    history = growth.get("history") or {}
    for kind, c in (history.get("commands") or {}).items():
        lines.append(
            f"| {kind} (in-process) | ~10 events | {num(c.get('young_p50_ms'))} | "
            f"| {history.get('events')} events | {num(c.get('old_p50_ms'))} | "
            f"| {num(dig(history, 'ratio_p50', kind))} |"
        )
    day = growth.get("day") or {}
    if "small" in day:
        on_day = day.get("bookings_on_day") or {}
        lines.append(
            f"| place a booking (HTTP) | {on_day.get('small')} on the day "
            f"| {num(dig(day, 'small', 'p50_ms'))} | {num(dig(day, 'small', 'p95_ms'))} "
            f"| {on_day.get('large')} on the day | {num(dig(day, 'large', 'p50_ms'))} "
            f"| {num(dig(day, 'large', 'p95_ms'))} | {num(day.get('ratio_p50'))} |"
        )
    for part in ("reads", "history", "day"):
        if isinstance(growth.get(part), dict) and "error" in growth[part]:
            lines.append(f"\n{part}: error: {str(growth[part]['error'])[:200]}")
    return lines


FIGURES: dict[str, Callable[[Json], list[str]]] = {
    "write": write_figures,
    "read": read_figures,
    "lag": lag_figures,
    "rebuild": rebuild_figures,
    "growth": growth_figures,
}


def render(suite: Json, source: str) -> str:
    loads = {
        name: dig(run, "result", "loadavg")
        for name, run in (suite.get("runs") or {}).items()
        if dig(run, "result", "loadavg")
    }
    out = [
        f"Suite run {suite.get('started')} → {suite.get('finished')} "
        f"({'--quick' if suite.get('quick') else 'full'}), commit `{suite.get('git')}`, "
        f"from `{source}`.",
        "",
    ]
    if loads:
        shown = "; ".join(f"{n} {', '.join(str(x) for x in v)}" for n, v in loads.items())
        out += [f"Load average (1, 5, 15 min) at the end of each script: {shown}.", ""]
    out += ["#### Targets (issue 9)", "", *targets(suite), ""]
    for name, figures in FIGURES.items():
        run = dig(suite, "runs", name) or {"status": "not run"}
        out.append(f"#### {name} — {run.get('status')}")
        out.append("")
        result = run.get("result")
        if isinstance(result, dict):
            try:
                out += figures(result)
            except (AttributeError, KeyError, TypeError) as error:
                out.append(f"(could not render: {error!r})")
        elif run.get("status") == "missing":
            out.append(f"`bench/{name}.py` is not there yet.")
        else:
            tail = str(run.get("stderr_tail") or "")[-300:].replace("\n", " ")
            out.append(f"no result ({run.get('status')}): `{tail}`")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def newest() -> Path:
    found = sorted((ROOT / "build" / "bench").glob("suite-*.json"))
    if not found:
        raise SystemExit("no build/bench/suite-*.json: run bench/suite.py first")
    return found[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, nargs="?", help="default: the newest suite file")
    parser.add_argument("--write", action="store_true", help=f"into {DOC.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    path: Path = args.path or newest()
    suite = json.loads(path.read_text())
    try:
        source = str(path.resolve().relative_to(ROOT))
    except ValueError:
        source = str(path)
    text = render(suite, source)
    if not args.write:
        print(text)
        return 0
    doc = DOC.read_text()
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"{DOC} has no {BEGIN} ... {END} markers")
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{text}{END}{tail}")
    print(f"wrote the figures into {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
