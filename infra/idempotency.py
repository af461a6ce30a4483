"""Idempotency keys, kept in a table of the event-store database.

A key is scoped to the caller. Where the event store's recorder writes this
table (`folds`, set by the composition root), a keyed request reads nothing
first: its command runs as a replay (ids derived from (caller, key)), and its
save carries the answer (commands/keeping.py), written in the events' own
transaction, or a guard; either fails the save if the key was answered
already, and the request then answers with what was kept. Commands that write
no events keep their answer in one upsert, the first answer kept winning.
Otherwise (`claim`) the key is read first and the answer kept in that upsert.
See docs/architecture.md ("HTTP") for the reasoning. Rows with a lease are an
older release's claims. Completed keys expire after a TTL and are pruned.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

import orjson
from sqlalchemy import (
    Column,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from commands.keeping import KeyedAnswer
from domain.errors import Conflict, InvalidInput
from domain.text import require_clean_text
from projections.tables import UTCDateTime

KEY_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotwise.dev/idempotency-key")
PRUNE_EVERY_SECONDS = 60.0

metadata = MetaData()
# v2 of the table: leases and expiry (v1, slotwise_idempotency_keys, is left alone).
command_keys = Table(
    "slotwise_command_keys",
    metadata,
    Column("scope", String(200), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer),
    Column("body", LargeBinary),
    Column("headers", LargeBinary),
    Column("lease_until", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("takeovers", Integer, nullable=False, default=0),
    Index("ix_command_keys_expires_at", "expires_at"),
)


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency-key-reused"
    title = "Idempotency-Key reused with a different request"


class IdempotencyKeyInFlight(Conflict):
    code = "idempotency-key-in-flight"
    title = "A request with this Idempotency-Key is still running"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, field="Idempotency-Key")
        self.retry_after = retry_after


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Claim:
    """A key this request now holds; `replay` when an earlier holder may have acted."""

    command_id: UUID
    replay: bool


class KeyStore(Protocol):
    """Where Idempotency-Keys live: this table (embedded) or Redis (infra/redis_keys.py)."""

    # Whether an answer may ride in its events' transaction (`keeping`): this table, when
    # the event store's recorder writes it (set by the composition root); never Redis.
    folds: bool

    def setup(self) -> None: ...

    def keeping(
        self, scope: str, key: str, fingerprint: str, answer: StoredResponse, mark: str
    ) -> KeyedAnswer: ...

    def claim_unread(self, scope: str, key: str) -> Claim: ...

    def claim(self, scope: str, key: str, fingerprint: str) -> Claim | StoredResponse: ...

    def complete(
        self, scope: str, key: str, response: StoredResponse, fingerprint: str = ""
    ) -> StoredResponse | None: ...

    def abandon(self, scope: str, key: str) -> None: ...

    def close(self) -> None: ...


def check_key(key: str) -> None:
    """Refuse keys no store can keep: empty, too long, or with control characters."""
    if not 1 <= len(key) <= 255:
        raise InvalidInput("Idempotency-Key must be 1 to 255 characters", field="Idempotency-Key")
    require_clean_text(key, "Idempotency-Key", single_line=True)


def command_id_for(scope: str, key: str) -> UUID:
    """The command id (and so the created ids) of a keyed request: the same on every retry."""
    return uuid5(KEY_NAMESPACE, f"{scope}\n{key}")


def utc_now() -> datetime:
    return datetime.now(UTC)


class IdempotencyStore:
    def __init__(
        self, engine: Engine, lease_seconds: float = 30.0, ttl_seconds: int = 86_400
    ) -> None:
        self.engine = engine
        self.lease = timedelta(seconds=lease_seconds)
        self.ttl = timedelta(seconds=ttl_seconds)
        self._pruned_at = 0.0
        self.folds = False

    def setup(self) -> None:
        metadata.create_all(self.engine)

    def close(self) -> None:
        """The engine is the container's (event-store tables); it disposes of it."""

    def claim(self, scope: str, key: str, fingerprint: str) -> Claim | StoredResponse:
        """The answer already given for the key, or leave to run the command as a replay.

        No row is written here (see the module docstring): an unknown key is run
        as a replay, whose created ids derive from (caller, key) and whose handler
        first looks for its own earlier effect in the event store.
        """
        check_key(key)
        self._prune_now_and_then()
        outcome = self._existing(scope, key, fingerprint, utc_now())
        return Claim(command_id_for(scope, key), replay=True) if outcome is None else outcome

    def claim_unread(self, scope: str, key: str) -> Claim:
        """Leave to run the command as a replay without reading the key first: with `folds`,
        its save carries the answer (or a guard) and fails with KeyAnswered if the key was
        answered, and an answer kept without events (`complete`) keeps the first one."""
        check_key(key)
        self._prune_now_and_then()
        return Claim(command_id_for(scope, key), replay=True)

    def _existing(
        self, scope: str, key: str, fingerprint: str, now: datetime
    ) -> Claim | StoredResponse | None:
        where = (command_keys.c.scope == scope) & (command_keys.c.key == key)
        with self.engine.begin() as conn:
            row = conn.execute(select(command_keys).where(where)).one_or_none()
            if row is None:
                return None  # never answered (or pruned meanwhile)
            if row.expires_at <= now:  # an old answer nobody may rely on any more
                conn.execute(delete(command_keys).where(where & (command_keys.c.expires_at <= now)))
                return None
            if row.fingerprint != fingerprint:
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was used with a different request body or path",
                    field="Idempotency-Key",
                )
            if row.status is not None:
                return StoredResponse(row.status, row.body, orjson.loads(row.headers))
            if row.lease_until > now:
                wait = max(1, int((row.lease_until - now).total_seconds() + 0.999))
                raise IdempotencyKeyInFlight(
                    "the first request with this key has not finished; retry later", wait
                )
            taken = conn.execute(  # the holder's lease ran out: take it over, once
                update(command_keys)
                .where(where & (command_keys.c.lease_until == row.lease_until))
                .where(command_keys.c.status.is_(None))
                .values(lease_until=now + self.lease, takeovers=row.takeovers + 1)
            )
            if taken.rowcount != 1:
                return None
        return Claim(command_id_for(scope, key), replay=True)

    def keeping(
        self, scope: str, key: str, fingerprint: str, answer: StoredResponse, mark: str
    ) -> KeyedAnswer:
        """The key's row for the event store's recorder to write with the events (`mark`
        standing for the save's position); it expires as `complete`'s rows do."""
        headers = orjson.dumps(answer.headers)
        expires_at = utc_now() + self.ttl
        return KeyedAnswer(
            scope, key, fingerprint, answer.status, answer.body, headers, mark, expires_at
        )

    def complete(
        self, scope: str, key: str, response: StoredResponse, fingerprint: str = ""
    ) -> StoredResponse | None:
        """Keep the answer (the key's only write). If another request with the key answered
        first, its answer is returned instead, so every caller of one key hears the same
        bytes; one with a different body is refused."""
        now = utc_now()
        values = {
            "status": response.status,
            "body": response.body,
            "headers": orjson.dumps(response.headers),
            "expires_at": now + self.ttl,
        }
        dialect_insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        upsert = (
            dialect_insert(command_keys)
            .values(
                scope=scope,
                key=key,
                fingerprint=fingerprint,
                lease_until=now,
                takeovers=0,
                **values,
            )
            .on_conflict_do_update(  # an older release's lease: filled in; an expired answer
                index_elements=[command_keys.c.scope, command_keys.c.key],
                set_={**values, "fingerprint": fingerprint},
                where=command_keys.c.status.is_(None) | (command_keys.c.expires_at <= now),
            )
            .returning(command_keys.c.key)
        )
        with self.engine.begin() as conn:
            if conn.execute(upsert).first() is not None:  # ours is the answer kept
                return None
        found = self._existing(scope, key, fingerprint, now)
        return found if isinstance(found, StoredResponse) else None

    def abandon(self, scope: str, key: str) -> None:
        """End the lease of a request that failed unexpectedly, so a retry may replay it."""
        with self.engine.begin() as conn:
            conn.execute(
                update(command_keys)
                .where((command_keys.c.scope == scope) & (command_keys.c.key == key))
                .where(command_keys.c.status.is_(None))
                .values(lease_until=utc_now())
            )

    def prune(self) -> int:
        """Forget keys whose answers expired; returns how many."""
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(command_keys).where(command_keys.c.expires_at <= utc_now())
            )
        return int(result.rowcount)

    def _prune_now_and_then(self) -> None:
        if time.monotonic() - self._pruned_at >= PRUNE_EVERY_SECONDS:
            self._pruned_at = time.monotonic()
            self.prune()
