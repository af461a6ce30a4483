"""Only one relay publishes at a time: a PostgreSQL advisory lock held on its own session.

PostgreSQL releases the lock when the session ends, so a leader that dies
(SIGKILL, lost network) frees it at once; the others try to take it every
`relay_leader_retry_seconds` and one takes over within about that long. A
leader checks its session before every batch and stops publishing the moment
it is gone.
"""

from __future__ import annotations

import contextlib
import zlib

import psycopg

LOCK_SPACE = 0x5107  # the advisory-lock namespace (first key) of SlotWise relays


def lock_key(prefix: str) -> int:
    """One lock per topic prefix: deployments sharing a database do not block each other."""
    return zlib.crc32(prefix.encode()) & 0x7FFFFFFF


class LeaderLock:
    """A session-level advisory lock on a dedicated connection (no pool, no transaction)."""

    def __init__(self, conninfo: str, prefix: str) -> None:
        self.conninfo, self.key = conninfo, lock_key(prefix)
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; False (without waiting) if another relay does."""
        if self._conn is not None:
            return self.held()
        conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
        row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_SPACE, self.key)).fetchone()
        if row is not None and row[0]:
            self._conn = conn
            return True
        conn.close()
        return False

    def held(self) -> bool:
        """Whether our session (and so the lock) is still alive."""
        if self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error:
            self.release()
            return False
        return True

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                conn.close()  # ending the session releases the lock
