"""The whole benchmark suite in one run: every figure of docs/benchmarks.md from one sitting.

Runs, one after the other, each as its own process (so one failing does not stop
the rest): bench/write.py, bench/read.py, bench/lag.py, bench/rebuild.py and
bench/growth.py. A script that is not there is recorded as "missing". Each
script's last stdout line starting with `{` is its result; all of them, with
exit statuses, durations and the tail of each table, go to
build/bench/suite-<UTC timestamp>.json. Then bench/report.py prints the
figures and which of issue 9's targets are met (`--update-docs` also writes
them into docs/benchmarks.md between its suite markers).

    .venv/bin/python bench/suite.py            # the full run (long: the 1M-row seeding, 50k events)
    .venv/bin/python bench/suite.py --quick    # smaller sizes, under 10 minutes
    .venv/bin/python bench/suite.py --quick --only write,lag --update-docs
    .venv/bin/python bench/suite.py --args "read=--requests 200" --kafka
    .venv/bin/python bench/suite.py --quick --tree rebuild=../wt-rebuild  # another worktree's

Progress goes to stderr; the exit status is 1 if any script failed or is missing.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCHES = ("write", "read", "lag", "rebuild", "growth")
# Per script: (full-run arguments, --quick arguments, time limit in seconds).
PLANS: dict[str, tuple[list[str], list[str], float]] = {
    "write": ([], ["--requests", "100", "--rounds", "2"], 1800),
    "read": ([], ["--quick"], 1800),
    "lag": ([], ["--seconds", "5"], 1800),
    "rebuild": (
        ["--backends", "sqlite,postgres"],
        ["--backends", "postgres", "--events", "10000", "--runner-events", "1000"],
        2400,
    ),
    "growth": (
        [],
        [
            "--requests",
            "30",
            "--rounds",
            "2",
            "--events",
            "3000",
            "--history-commands",
            "40",
            "--bookings-large",
            "300000",
        ],
        2400,
    ),
}


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] suite: {message}", file=sys.stderr, flush=True)


def run_one(
    name: str, argv: list[str], limit: float, pg_dsn: str | None, tree: Path = ROOT
) -> dict[str, Any]:
    """Run `tree`/bench/NAME.py from `tree` with its own virtualenv (this one's if it has none)."""
    script = tree / "bench" / f"{name}.py"
    if not script.exists():
        progress(f"{name}: missing ({script})")
        return {"status": "missing", "argv": argv, "tree": str(tree)}
    python = tree / ".venv" / "bin" / "python"
    command = [str(python) if python.exists() else sys.executable, str(script), *argv]
    if pg_dsn and "--pg-dsn" not in argv:
        command += ["--pg-dsn", pg_dsn]
    progress(f"{name}: {' '.join(shlex.quote(a) for a in command[1:])}")
    began = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=tree, capture_output=True, text=True, timeout=limit, check=False
        )
    except subprocess.TimeoutExpired as expired:
        stderr = (
            expired.stderr.decode(errors="replace") if isinstance(expired.stderr, bytes) else ""
        )
        return {"status": "timeout", "argv": argv, "seconds": limit, "stderr_tail": stderr[-2000:]}
    seconds = round(time.monotonic() - began, 1)
    lines = done.stdout.splitlines()
    results = [line for line in lines if line.startswith("{")]
    result: dict[str, Any] | None = None
    if results:
        try:
            result = json.loads(results[-1])
        except json.JSONDecodeError:
            result = None
    table = [line for line in lines if not line.startswith("{")]
    status = "ok" if done.returncode == 0 and result is not None else "failed"
    progress(f"{name}: {status} (exit {done.returncode}) in {seconds}s")
    return {
        "status": status,
        "tree": str(tree),
        "exit": done.returncode,
        "argv": argv,
        "seconds": seconds,
        "result": result,
        "table": table[-60:],
        "stderr_tail": done.stderr[-2000:] if status != "ok" else "",
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under 10 minutes")
    parser.add_argument("--only", default=",".join(BENCHES), help="comma-separated subset")
    parser.add_argument("--kafka", action="store_true", help="lag through Kafka too (slow)")
    parser.add_argument(
        "--args",
        action="append",
        default=[],
        metavar="NAME=ARGS",
        help='extra arguments for one script, e.g. "growth=--bookings-large 100000"',
    )
    parser.add_argument(
        "--tree",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="run DIR/bench/NAME.py in DIR (another worktree) with DIR/.venv, e.g. "
        '"rebuild=../wt-rebuild"',
    )
    parser.add_argument("--pg-dsn", default=None, help="passed on to every script")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench")
    parser.add_argument("--update-docs", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args(argv)
    args.only = [n.strip() for n in args.only.split(",") if n.strip()]
    if not set(args.only) <= set(BENCHES):
        parser.error(f"--only takes {', '.join(BENCHES)}")
    extra: dict[str, list[str]] = {}
    for item in args.args:
        name, _, rest = item.partition("=")
        if name not in BENCHES:
            parser.error(f"--args: no script {name!r}")
        extra.setdefault(name, []).extend(shlex.split(rest))
    args.extra = extra
    trees: dict[str, Path] = {}
    for item in args.tree:
        name, _, folder = item.partition("=")
        if name not in BENCHES or not Path(folder).is_dir():
            parser.error(f"--tree: {item!r} is not NAME=DIR of an existing directory")
        trees[name] = Path(folder).resolve()
    args.trees = trees
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    runs: dict[str, Any] = {}
    for name in args.only:
        full, quick, limit = PLANS[name]
        argv_of = list(quick if args.quick else full)
        if name == "lag" and args.kafka:
            argv_of.append("--kafka")
        tree = args.trees.get(name, ROOT)
        runs[name] = run_one(name, argv_of + args.extra.get(name, []), limit, args.pg_dsn, tree)
    suite = {
        "suite": "slotwise-bench",
        "quick": args.quick,
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": git_describe(),
        "runs": runs,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"suite-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(suite, indent=1, default=str))
    progress(f"results in {path}")
    report = [sys.executable, str(ROOT / "bench" / "report.py"), str(path)]
    if args.update_docs:
        report.append("--write")
    subprocess.run(report, cwd=ROOT, check=False)
    print(json.dumps({"bench": "suite", "path": str(path), "status": statuses(runs)}))
    return 0 if all(run["status"] == "ok" for run in runs.values()) else 1


def statuses(runs: dict[str, Any]) -> dict[str, str]:
    return {name: str(run["status"]) for name, run in runs.items()}


def git_describe() -> str:
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
