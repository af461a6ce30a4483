"""The hash chain over the notification log: pure functions shared by writers and verifiers.

Each record's chain hash is SHA-256 of the previous record's chain hash (32
zero bytes before the first record) followed by the record's canonical bytes:
its position as 8 bytes big-endian, its aggregate id as the UUID's 16 bytes,
its version as 8 bytes big-endian, its stored topic's UTF-8 length as 4 bytes
big-endian and the topic, then the stored state bytes exactly as stored.
PostgreSQL computes the same bytes in SQL (infra/audit/pg_chain.py).
"""

from __future__ import annotations

import hashlib
import struct
from uuid import UUID

GENESIS = bytes(32)  # the "previous hash" of the first record
_HEAD = struct.Struct(">q16sqI")


def canonical_bytes(
    position: int, aggregate_id: UUID, version: int, topic: str, state: bytes
) -> bytes:
    """The bytes of one record as stored, as the chain covers them."""
    encoded = topic.encode()
    return _HEAD.pack(position, aggregate_id.bytes, version, len(encoded)) + encoded + state


def link(
    previous: bytes, position: int, aggregate_id: UUID, version: int, topic: str, state: bytes
) -> bytes:
    """The chain hash of a record that follows a record whose chain hash is `previous`."""
    digest = hashlib.sha256(previous)
    digest.update(canonical_bytes(position, aggregate_id, version, topic, state))
    return digest.digest()
