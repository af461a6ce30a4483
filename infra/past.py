"""`projections rebuild --until …`: where the past ends, and which read database may hold it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    delete,
    insert,
    inspect,
    select,
)

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


# Marks a read database built as of a past position, so no follower ever moves it on.
past_metadata = MetaData()
read_model_horizon = Table(
    "read_model_horizon",
    past_metadata,
    Column("position", BigInteger, primary_key=True),
    Column("until_time", String(64), nullable=True),
    Column("built_at", DateTime(timezone=True), nullable=False),
)


def mark_past(engine: Engine, position: int, until: datetime | None) -> None:
    """Record that `engine`'s read models stand at `position` (replacing any earlier mark)."""
    past_metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(delete(read_model_horizon))
        conn.execute(
            insert(read_model_horizon).values(
                position=position,
                until_time=until.isoformat() if until else None,
                built_at=datetime.now(UTC),
            )
        )


def past_position(engine: Engine) -> int | None:
    """The position a past read database stands at; None for a live one."""
    if not inspect(engine).has_table(read_model_horizon.name):
        return None
    with engine.connect() as conn:
        return conn.execute(select(read_model_horizon.c.position)).scalar()
