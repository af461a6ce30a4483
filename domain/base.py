"""The aggregate base of every SlotWise aggregate: each event records its cause.

Events of schema version 1 were written before causes were recorded; reading
them upcasts what can be known (the actor named by `by`, `placed_by` or
`owner_id`) and marks the rest `unrecorded`, so no code default pretends to know.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from eventsourcing.domain import Aggregate as LibraryAggregate

from domain.cause import UNRECORDED, current_cause

# Fields of version-1 events that named the acting user, in order of preference.
_ACTOR_HINTS = ("by", "placed_by", "owner_id")


class Aggregate(LibraryAggregate):
    """An eventsourcing aggregate whose events say who caused them, and why."""

    class Event(LibraryAggregate.Event):
        actor_id: str
        actor_role: str
        correlation_id: str
        causation_id: str

        class_version: ClassVar[int] = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            actor = next((state[k] for k in _ACTOR_HINTS if isinstance(state.get(k), str)), None)
            state["actor_id"] = actor or UNRECORDED
            state["actor_role"] = UNRECORDED
            state["correlation_id"] = UNRECORDED
            state["causation_id"] = UNRECORDED

    class Created(Event, LibraryAggregate.Created):
        pass

    @classmethod
    def _create(cls, event_class: Any, *, id: Any = None, **kwargs: Any) -> Self:
        kwargs.update(current_cause().as_event_fields())
        created: Self = super()._create(event_class, id=id, **kwargs)
        return created

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        kwargs.update(current_cause().as_event_fields())
        super().trigger_event(event_class, **kwargs)
