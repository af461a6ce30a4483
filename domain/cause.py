"""Who and why: the cause that every event records, set once per command.

A command handler runs inside `caused_by(cause)`; the aggregate base class
stamps the current cause onto each event it triggers, so no handler threads
actor or correlation ids through aggregate methods.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass

from domain.actor import Actor

# Every event class carries these fields (see domain.base.Aggregate.Event).
CAUSE_FIELDS = ("actor_id", "actor_role", "correlation_id", "causation_id")
# What events recorded before causes existed show for each of them.
UNRECORDED = "unrecorded"


@dataclass(frozen=True)
class Cause:
    """The actor behind an event, the request it belongs to and what directly caused it."""

    actor_id: str
    actor_role: str
    correlation_id: str
    causation_id: str

    @classmethod
    def of(cls, actor: Actor, correlation_id: str, causation_id: str) -> Cause:
        return cls(actor.id, actor.role.value, correlation_id, causation_id)

    def as_event_fields(self) -> dict[str, str]:
        return asdict(self)


class UncausedEvent(RuntimeError):
    """An aggregate changed outside any command; every event must say who and why."""


_current: ContextVar[Cause | None] = ContextVar("slotwise_cause", default=None)


@contextmanager
def caused_by(cause: Cause) -> Iterator[Cause]:
    """Events triggered inside this block record `cause`."""
    token = _current.set(cause)
    try:
        yield cause
    finally:
        _current.reset(token)


def current_cause() -> Cause:
    cause = _current.get()
    if cause is None:
        raise UncausedEvent("an event was triggered outside any command (use caused_by)")
    return cause
