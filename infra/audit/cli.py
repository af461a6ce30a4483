"""`slotwise audit …`: verify the hash chain (of the store or an export) and export the log."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated
from uuid import UUID

import typer

from infra.lines import say

if TYPE_CHECKING:
    from infra.audit.verify import Verdict

audit_app = typer.Typer(help="The tamper-evident log: verify and export.", no_args_is_help=True)
DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="where the SQLite files live (embedded stack)"),
]


@audit_app.command("verify")
def verify(
    file: Annotated[Path | None, typer.Argument(help="an export to verify offline")] = None,
    data_dir: DataDir = None,
) -> None:
    """Recompute the hash chain of the event store or of an export FILE; 1 names a failure."""
    if file is not None:
        from infra.audit.offline import verify_export

        if not file.is_file():
            _usage(f"no export at {file}")
        with file.open("rb") as lines:
            _report(verify_export(lines))
    # Imported when run: `slotwise --help` loads no database driver.
    from infra.audit.log import ChainLog
    from infra.audit.verify import verify_store
    from infra.entrypoints.shared import open_container as _open

    container = _open(data_dir)
    try:
        verdict = verify_store(ChainLog(container.app.recorder))
    finally:
        container.close()
    _report(verdict)


@audit_app.command("export")
def export(
    business: Annotated[UUID | None, typer.Option(help="only this business's aggregates")] = None,
    after: Annotated[int, typer.Option(min=0, help="start after this position")] = 0,
    until: Annotated[str | None, typer.Option(help="stop at events after this time")] = None,
    out: Annotated[Path | None, typer.Option(help="write here (default: standard output)")] = None,
    data_dir: DataDir = None,
) -> None:
    """The log as JSON Lines of CloudEvents with the chain's hashes, in position order."""
    from infra.audit.export import ExportFilter, export_lines
    from infra.audit.log import ChainLog
    from infra.entrypoints.shared import open_container as _open

    wanted = ExportFilter(after=after, until=_instant(until), business_id=business)
    container = _open(data_dir)
    count = 0
    try:
        with _output(out) as sink:
            for line in export_lines(
                ChainLog(container.app.recorder), container.app.mapper, wanted
            ):
                sink.write(line)
                count += 1
    finally:
        container.close()
    say(f"exported {count} events" + (f" to {out}" if out else ""))


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        _usage(f"--until {text!r} is not an ISO 8601 time")
    if moment.tzinfo is None:
        _usage(f"--until {text!r} needs an offset (e.g. 2027-03-01T10:00:00+00:00)")
    return moment


@contextmanager
def _output(out: Path | None) -> Iterator[IO[bytes]]:
    if out is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with out.open("wb") as sink:
        yield sink


def _report(verdict: Verdict) -> None:
    typer.echo(verdict.sentence())
    raise typer.Exit(0 if verdict.ok else 1)


def _usage(line: str) -> None:
    say(f"slotwise: {line}")
    raise typer.Exit(2)
