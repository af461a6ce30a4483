"""Shared by the audit tests: a small history, and raw SQL on the event store's tables."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import psycopg

from commands.app import SlotWise
from commands.messages import CancelBooking
from infra.audit.log import ChainLog
from infra.audit.pg_chain import ChainedPostgresRecorder
from infra.bootstrap import Container
from tests.unit.builders import ALICE, BOB, book, new_york, open_salon, owner


def history(app: SlotWise, slug: str = "salon", bookings: int = 4) -> tuple[UUID, UUID]:
    """A business with a service and a few bookings, one cancelled."""
    business_id, service_id = open_salon(app, owner(f"owner-{slug}"), slug=slug)
    placed = [
        book(app, ALICE if n % 2 else BOB, service_id, new_york(2 + n // 8, 9 + n % 8))
        for n in range(bookings)
    ]
    app.cancel_booking(CancelBooking(ALICE, placed[1], reason="ill"))
    return business_id, service_id


class RawStore:
    """Plain SQL on the events and chain tables, as a tampering operator would use."""

    def __init__(self, container: Container) -> None:
        recorder = container.app.recorder
        self.pg = isinstance(recorder, ChainedPostgresRecorder)
        self.url = container.settings.event_store_url
        self.events = recorder.events_table_name  # type: ignore[attr-defined]
        self.chain = recorder.chain_table_name  # type: ignore[attr-defined]
        self.id = "notification_id" if self.pg else "rowid"
        self.log = ChainLog(recorder)

    @contextmanager
    def sql(self) -> Iterator[Any]:
        if self.pg:
            parts = urlsplit(self.url)
            schema = parse_qs(parts.query)["schema"][-1]
            dsn = f"postgresql://{parts.netloc}{parts.path}"
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'SET search_path TO "{schema}"')
                yield conn
            return
        lite = sqlite3.connect(urlsplit(self.url).path.removeprefix("/"), isolation_level=None)
        try:
            yield lite
        finally:
            lite.close()

    def run(self, statement: str, *params: Any) -> list[Any]:
        text = statement.format(events=self.events, chain=self.chain, id=self.id)
        if self.pg:
            text = text.replace("?", "%s")
        with self.sql() as conn:
            cursor = conn.execute(text, params)
            return list(cursor.fetchall()) if cursor.description else []

    def positions(self) -> list[int]:
        return [row[0] for row in self.run("SELECT {id} FROM {events} ORDER BY {id}")]
