"""`projections rebuild --until …`: where the past ends, and which read database may hold it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from infra.rebuild import Horizon
from infra.serving import CommandFailed


def horizon(until: str | None, until_position: int | None) -> Horizon | None:
    """The horizon the options ask for (none: the whole log), or one sentence on what is wrong."""
    if until is not None and until_position is not None:
        raise CommandFailed("give --until or --until-position, not both")
    if until_position is not None:
        return Horizon(position=until_position)
    if until is None:
        return None
    try:
        moment = datetime.fromisoformat(until)
    except ValueError:
        raise CommandFailed(f"--until {until!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise CommandFailed(f"--until {until!r} needs an offset (e.g. 2027-03-01T10:00:00+00:00)")
    return Horizon(time=moment)


def same_database(one: str, other: str) -> bool:
    """Whether two read-database URLs name the same tables (a SQLite file, or a schema)."""
    return _identity(one) == _identity(other)


def _identity(url: str) -> tuple[str, ...]:
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        return ("sqlite", str(Path(parts.path.removeprefix("/")).resolve()))
    schema = parse_qs(parts.query).get("schema", ["public"])[-1] or "public"
    host = (parts.hostname or "localhost").replace("127.0.0.1", "localhost")
    return ("postgresql", host, str(parts.port or 5432), parts.path.strip("/"), schema)
