"""Paging for every list that can grow: opaque cursors, a bounded `limit`, a stable order.

A cursor is the base64url of a small JSON array naming the list it belongs to
and the sort key of the last item served, so the next page starts strictly
after it. Clients must treat it as opaque; anything that does not decode to
the expected shape is a 400, never an empty page.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

import orjson
from fastapi import Query

from domain.errors import DomainError

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
MAX_CURSOR = 256  # characters: ample for the keys below, small enough to reject junk early
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")

LimitQuery = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_LIMIT,
        description=f"items per page (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})",
    ),
]
CursorQuery = Annotated[
    str | None,
    Query(description="`next_cursor` of the previous page; omit for the first page"),
]
T = TypeVar("T")


class MalformedCursor(DomainError):
    code = "malformed-cursor"
    title = "Malformed cursor"


def encode_cursor(kind: str, *key: str) -> str:
    raw = orjson.dumps([kind, *key])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, kind: str, parts: int) -> list[str]:
    """The key of a cursor made by `encode_cursor(kind, ...)` with `parts` strings."""
    refused = MalformedCursor(
        "cursor is not a next_cursor this list gave out; start again without it", field="cursor"
    )
    if len(cursor) > MAX_CURSOR or not _BASE64URL.fullmatch(cursor):
        raise refused
    try:
        decoded: Any = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise refused from None
    if (
        not isinstance(decoded, list)
        or len(decoded) != parts + 1
        or decoded[0] != kind
        or not all(isinstance(part, str) for part in decoded[1:])
    ):
        raise refused
    return decoded[1:]


def parse_key(cursor: str, kind: str, *parsers: Callable[[str], Any]) -> tuple[Any, ...]:
    """Decode and parse each part of the key; any failure is a malformed cursor."""
    parts = decode_cursor(cursor, kind, len(parsers))
    try:
        return tuple(parse(part) for parse, part in zip(parsers, parts, strict=True))
    except (ValueError, OverflowError):
        raise MalformedCursor(
            "cursor is not a next_cursor this list gave out; start again without it",
            field="cursor",
        ) from None


def instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("naive")
    return moment


def uuid_text(text: str) -> str:
    return str(UUID(text))


def page(
    rows: Sequence[T], limit: int, cursor_of: Callable[[T], str]
) -> tuple[list[T], str | None]:
    """The first `limit` rows and, when more were found, the cursor after the last one."""
    shown = list(rows[:limit])
    more = len(rows) > limit
    return shown, (cursor_of(shown[-1]) if more and shown else None)
