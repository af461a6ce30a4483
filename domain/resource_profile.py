"""The editable fields of a bookable resource, validated together."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.errors import InvalidInput
from domain.resources import KINDS, require_category
from domain.text import require_visible
from domain.values import parse_weekly

MAX_METADATA_KEYS = 50


@dataclass(frozen=True)
class ResourceProfile:
    """A resource's name, kind, category, free-form metadata and own hours (None: the
    business's)."""

    name: str
    kind: str
    category: str
    metadata: dict[str, Any] = field(default_factory=dict)
    weekly: list[dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        require_visible(self.name, "name")
        if self.kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", field="kind")
        require_category(self.category, "category")
        if not isinstance(self.metadata, dict) or len(self.metadata) > MAX_METADATA_KEYS:
            raise InvalidInput(
                f"metadata is an object of at most {MAX_METADATA_KEYS} keys", field="metadata"
            )
        if self.weekly is not None:
            parse_weekly(self.weekly)

    def as_event_fields(self) -> dict[str, Any]:
        weekly = None if self.weekly is None else [w.as_dict() for w in parse_weekly(self.weekly)]
        return {
            "name": self.name.strip(),
            "kind": self.kind,
            "category": self.category.strip(),
            "metadata": dict(self.metadata),
            "weekly": weekly,
        }
