"""Wake a log follower when PostgreSQL says the events table changed (LISTEN/NOTIFY).

Every insert into the events table sends a NOTIFY on the table's channel
(infra/pg_recorder.py), from whichever process wrote. A thread holding one
connection of its own LISTENs and calls `wake` for each notification, so a
follower in another process sees a write within milliseconds rather than at its
next poll. The poll stays as the fallback: when the database goes away the
thread reconnects with backoff and wakes the follower once it is back, in case
it missed something meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, cast

import psycopg
from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

log = logging.getLogger(__name__)
FIRST_BACKOFF, MOST_BACKOFF = 0.1, 5.0
APPLICATION_NAME = "slotwise-wakeups"  # how an operator (or a test) finds the connection
# How long one wait for notifications lasts before checking `stop`: what stopping takes at
# most. The wait is a select() on the socket, so waking often costs nothing measurable.
CHECK_STOP_SECONDS = 0.1


class PostgresWakeups:
    """A thread that calls `wake` whenever the events table's channel is notified."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], channel: str) -> None:
        self.connect, self.channel = connect, channel
        self.listening = threading.Event()  # set while a LISTEN is in place (tests wait on it)
        self.backend_pid = 0  # the listening connection's server process
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_recorder(cls, recorder: ApplicationRecorder) -> PostgresWakeups | None:
        """Wakeups for the recorder's events table; None when it is not PostgreSQL."""
        if not isinstance(recorder, PostgresApplicationRecorder):
            return None
        pool = recorder.datastore.pool
        # The pool's own connection settings (the library passes a dict and no conninfo).
        given = cast(dict[str, Any], pool.kwargs or {})
        options = {k: v for k, v in given.items() if k not in ("row_factory", "connect_timeout")}
        connect_timeout = given.get("connect_timeout", 5)
        conninfo = pool.conninfo if isinstance(pool.conninfo, str) else ""

        def connect() -> psycopg.Connection[Any]:
            return psycopg.connect(
                conninfo,
                autocommit=True,
                connect_timeout=connect_timeout,
                application_name=APPLICATION_NAME,
                **options,
            )

        return cls(connect, recorder.channel_name)

    def start(self, wake: Callable[[], None]) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(wake,), name="slotwise-wakeups", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self, wake: Callable[[], None]) -> None:
        backoff = FIRST_BACKOFF
        while not self._stop.is_set():
            try:
                with self.connect() as conn:
                    conn.execute(SQL("LISTEN {}").format(Identifier(self.channel)))
                    self.backend_pid = conn.info.backend_pid
                    self.listening.set()
                    backoff = FIRST_BACKOFF
                    wake()  # anything written while we were not listening
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=CHECK_STOP_SECONDS, stop_after=1):
                            wake()
            except psycopg.Error as error:
                self.listening.clear()
                log.warning(
                    "LISTEN on %s failed (%s); retrying in %.1fs", self.channel, error, backoff
                )
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MOST_BACKOFF)
        self.listening.clear()
