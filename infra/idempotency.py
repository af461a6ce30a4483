"""Idempotency keys, kept in a table of the event-store database (Redis comes later).

A key is scoped to the caller. The first request with a key claims it; a retry
with the same body gets the stored answer and appends nothing; the same key
with a different body, or while the first is still running, is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from domain.errors import Conflict, InvalidInput
from projections.tables import UTCDateTime

metadata = MetaData()
idempotency_keys = Table(
    "slotwise_idempotency_keys",
    metadata,
    Column("scope", String(200), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer),
    Column("body", LargeBinary),
    Column("headers", LargeBinary),
    Column("created_at", UTCDateTime(), nullable=False),
)


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency-key-reused"
    title = "Idempotency-Key reused with a different request"


class IdempotencyKeyInFlight(Conflict):
    code = "idempotency-key-in-flight"
    title = "A request with this Idempotency-Key is still running"


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes
    headers: dict[str, str]


class IdempotencyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def setup(self) -> None:
        metadata.create_all(self.engine)

    def claim(self, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
        """Claim the key (None), or return the answer already given for it."""
        if not 1 <= len(key) <= 255:
            raise InvalidInput(
                "Idempotency-Key must be 1 to 255 characters", field="Idempotency-Key"
            )
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(idempotency_keys).values(
                        scope=scope, key=key, fingerprint=fingerprint, created_at=datetime.now(UTC)
                    )
                )
            return None
        except IntegrityError:
            pass
        with self.engine.connect() as conn:
            row = conn.execute(
                select(idempotency_keys).where(
                    (idempotency_keys.c.scope == scope) & (idempotency_keys.c.key == key)
                )
            ).one()
        if row.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used with a different request body or path",
                field="Idempotency-Key",
            )
        if row.status is None:
            raise IdempotencyKeyInFlight("the first request with this key has not finished; retry")
        return StoredResponse(row.status, row.body, orjson.loads(row.headers))

    def complete(self, scope: str, key: str, response: StoredResponse) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(idempotency_keys)
                .where((idempotency_keys.c.scope == scope) & (idempotency_keys.c.key == key))
                .values(
                    status=response.status,
                    body=response.body,
                    headers=orjson.dumps(response.headers),
                )
            )

    def release(self, scope: str, key: str) -> None:
        """Forget a claim whose request failed unexpectedly, so a retry may run."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(idempotency_keys).where(
                    (idempotency_keys.c.scope == scope) & (idempotency_keys.c.key == key)
                )
            )
