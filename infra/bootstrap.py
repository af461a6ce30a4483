"""The composition root: builds every adapter from settings; tests override any of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from commands.app import SlotWise
from commands.base import utc_now
from infra.follower import Follower
from infra.idempotency import IdempotencyStore
from infra.readdb import ReadDatabase, open_read_database, sqlite_engine
from infra.settings import Settings
from projections import all_projectors
from projections.base import ProjectionRunner


@dataclass
class Container:
    """Everything a process needs, built once and closed once."""

    settings: Settings
    app: SlotWise
    read_db: ReadDatabase
    runner: ProjectionRunner
    idempotency: IdempotencyStore
    clock: Callable[[], datetime] = utc_now
    follower: Follower | None = field(default=None)

    def start_follower(self) -> Follower:
        """In-process delivery to the projectors (the embedded stack)."""
        if self.follower is None:
            self.follower = Follower(
                self.app.recorder,
                self.app.mapper,
                self.runner,
                poll_seconds=self.settings.follower_poll_seconds,
            )
            self.follower.start()
        return self.follower

    def close(self) -> None:
        if self.follower is not None:
            self.follower.stop()
            self.follower = None
        self.read_db.dispose()
        self.idempotency.engine.dispose()
        self.app.close()


def event_store_engine(settings: Settings) -> Engine:
    url = settings.event_store_sqlalchemy_url()
    if url.startswith("sqlite"):
        return sqlite_engine(url, immediate=True)
    from sqlalchemy import create_engine

    return create_engine(url, pool_size=5, max_overflow=20, pool_pre_ping=True)


def bootstrap(
    settings: Settings | None = None, clock: Callable[[], datetime] = utc_now
) -> Container:
    settings = settings or Settings()
    app = SlotWise(env=settings.eventsourcing_env(), clock=clock)
    read_db = open_read_database(settings.read_db_url)
    runner = ProjectionRunner(read_db.writer, all_projectors())
    runner.setup()
    idempotency = IdempotencyStore(event_store_engine(settings))
    idempotency.setup()
    return Container(settings, app, read_db, runner, idempotency, clock)
