"""Closure ids: new closures take theirs from the command; older ones from what they say.

A closure recorded before closures had ids gets one derived from its business
and its content. Content, not the version of the event that added it, because
a business snapshot holds its closures without the versions they were added
at, and both paths must give one closure the same id. Two identical old
closures of one business share an id, so removing it removes both: they close
the same time for the same reason, which is one closure in effect.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

CLOSURE_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotwise.dev/closure")


def legacy_closure_id(business_id: UUID | str, start: datetime, end: datetime, reason: str) -> UUID:
    """The id of a closure recorded without one (the same on every path that reads it)."""
    span = f"{start.astimezone(UTC).isoformat()}/{end.astimezone(UTC).isoformat()}"
    return uuid5(CLOSURE_NAMESPACE, f"{business_id}/{span}/{reason}")


def closure_id_of(business_id: UUID | str, closure: dict[str, Any]) -> UUID:
    """The id a closure (as aggregate state or a read-model row keeps it) goes by."""
    known = closure.get("id")
    if known is not None:
        return known if isinstance(known, UUID) else UUID(str(known))
    return legacy_closure_id(
        business_id, _instant(closure["start"]), _instant(closure["end"]), closure["reason"]
    )


def _instant(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
