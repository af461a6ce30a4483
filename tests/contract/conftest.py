"""The fuzzer's tally: every request it made, by app and status, printed at the end of the run
and written to build/schemathesis-summary.json for the closing note."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

# (app, status) -> requests; filled in by the fuzz tests.
TALLY: Counter[tuple[str, int]] = Counter()
STARTED = pytest.StashKey[float]()
SUMMARY = Path(__file__).resolve().parents[2] / "build" / "schemathesis-summary.json"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the tally where the fuzz tests ran (an xdist worker, or the only process)."""
    if not TALLY:
        return
    requests = sum(TALLY.values())
    server_errors = sum(n for (_, status), n in TALLY.items() if status >= 500 and status != 503)
    by_status = Counter[int]()
    for (_, status), n in TALLY.items():
        by_status[status] += n
    summary = {
        "requests": requests,
        "server_errors": server_errors,
        "by_app": {app: sum(n for (a, _), n in TALLY.items() if a == app) for app, _ in TALLY},
        "by_status": {str(k): v for k, v in sorted(by_status.items())},
    }
    SUMMARY.parent.mkdir(exist_ok=True)
    SUMMARY.write_text(json.dumps(summary, indent=2) + "\n")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[STARTED] = time.time()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Print the tally this run wrote (by this process or by a worker)."""
    if not SUMMARY.exists() or SUMMARY.stat().st_mtime < config.stash[STARTED]:
        return
    summary = json.loads(SUMMARY.read_text())
    terminalreporter.write_line(
        f"schemathesis: {summary['requests']} requests, {summary['server_errors']} server "
        f"errors (5xx but 503); statuses {summary['by_status']} "
        f"(also in {SUMMARY.relative_to(SUMMARY.parents[1])})"
    )
