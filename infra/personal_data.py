"""Per-customer AES-256-GCM keys in their own table next to the events; never in an event.

`seal` encrypts a small JSON document under the subject's current key (made on
first use); `open_all` decrypts, giving None where the key was erased; `erase`
deletes the key material and keeps a tombstone row (its generation and when it
was erased), so a later booking gets a fresh key and reads can tell "erased"
from "never had any". Keys are read from the table on every use rather than
cached: an erase in one process must take effect in every other at once, and a
primary-key lookup costs far less than the booking's own write.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from domain.personal import Sealed
from projections.tables import UTCDateTime, booking_personal_data

NONCE_BYTES = 12
metadata = MetaData()
personal_data_keys = Table(
    "personal_data_keys",
    metadata,
    Column("subject", String(200), primary_key=True),
    Column("key_version", Integer, nullable=False),
    Column("key", LargeBinary),  # NULL once erased: the tombstone keeps version and time
    Column("created_at", UTCDateTime(), nullable=False),
    Column("erased_at", UTCDateTime()),
)


def associated_data(subject: str, key_version: int) -> bytes:
    """Binds a ciphertext to its customer and key generation: it opens under no other."""
    return f"{subject}/{key_version}".encode()


class PersonalDataKeys:
    """The key table: seals for the command side, opens for the read side, erases for both."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def setup(self) -> None:
        metadata.create_all(self.engine)

    def seal(self, subject: str, document: dict[str, Any]) -> Sealed:
        version, key = self._current_key(subject)
        nonce = os.urandom(NONCE_BYTES)
        plaintext = orjson.dumps(document)
        ciphertext = AESGCM(key).encrypt(nonce, plaintext, associated_data(subject, version))
        return Sealed(subject, version, nonce + ciphertext)

    def open_all(self, sealed: Sequence[Sealed]) -> list[dict[str, Any] | None]:
        """Each document in plain, or None where its key is gone (one query for all)."""
        rows = self._rows({s.subject for s in sealed})
        return [self._open(s, rows.get(s.subject)) for s in sealed]

    def erased_subjects(self, subjects: Iterable[str]) -> set[str]:
        """Those of `subjects` whose personal data was ever erased."""
        rows = self._rows(set(subjects))
        return {s for s, row in rows.items() if row["erased_at"] is not None}

    def erase(self, subject: str) -> int:
        """Delete the subject's key (a tombstone stays); the generation destroyed, or 0."""
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            row = conn.execute(
                select(personal_data_keys).where(personal_data_keys.c.subject == subject)
            ).first()
            if row is None:
                values = {"subject": subject, "key_version": 0, "key": None}
                conn.execute(insert(personal_data_keys).values(**values, created_at=now))
            erased = update(personal_data_keys).where(personal_data_keys.c.subject == subject)
            conn.execute(erased.values(key=None, erased_at=now))
        return 0 if row is None or row.key is None else int(row.key_version)

    def _open(self, sealed: Sealed, row: dict[str, Any] | None) -> dict[str, Any] | None:
        if row is None or row["key"] is None or row["key_version"] != sealed.key_version:
            return None
        nonce, ciphertext = sealed.ciphertext[:NONCE_BYTES], sealed.ciphertext[NONCE_BYTES:]
        aad = associated_data(sealed.subject, sealed.key_version)
        try:
            document: dict[str, Any] = orjson.loads(
                AESGCM(row["key"]).decrypt(nonce, ciphertext, aad)
            )
        except InvalidTag:  # altered ciphertext: unreadable, like an erased one
            return None
        return document

    def _rows(self, subjects: set[str]) -> dict[str, dict[str, Any]]:
        if not subjects:
            return {}
        query = select(personal_data_keys).where(personal_data_keys.c.subject.in_(subjects))
        with self.engine.connect() as conn:
            return {row.subject: dict(row._mapping) for row in conn.execute(query)}

    def _current_key(self, subject: str) -> tuple[int, bytes]:
        """The subject's live key, made now when they have none (first use, or after an
        erase); two processes making one at once agree on whichever was stored first."""
        for _ in range(3):
            row = self._rows({subject}).get(subject)
            if row is not None and row["key"] is not None:
                return int(row["key_version"]), bytes(row["key"])
            if self._make_key(subject, row):
                continue
        raise RuntimeError(f"could not store a personal-data key for {subject!r}")

    def _make_key(self, subject: str, tombstone: dict[str, Any] | None) -> bool:
        key, now = AESGCM.generate_key(bit_length=256), datetime.now(UTC)
        try:
            with self.engine.begin() as conn:
                if tombstone is None:
                    values = {"subject": subject, "key_version": 1, "key": key, "created_at": now}
                    conn.execute(insert(personal_data_keys).values(**values))
                else:
                    table = personal_data_keys
                    conn.execute(
                        update(table)
                        .where(table.c.subject == subject, table.c.key.is_(None))
                        .values(key=key, key_version=tombstone["key_version"] + 1, created_at=now)
                    )
        except IntegrityError:  # another process stored one first: use theirs
            pass
        return True


class ShownPersonalData:
    """What the read models show of a customer's personal data (the erasure's answer).

    The write-api role has no read models of its own: it asks with an engine opened for the
    occasion (`owned`, disposed at close); the dev composition shares its read database.
    """

    def __init__(self, reader: Engine, *, owned: bool = False) -> None:
        self.reader, self.owned = reader, owned

    def bookings_with_personal_data(self, customer_id: str) -> int:
        table = booking_personal_data
        query = select(func.count()).where(table.c.subject == customer_id)
        with self.reader.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def close(self) -> None:
        if self.owned:
            self.reader.dispose()
