"""An answer kept in the same transaction as the events of the command it answers.

A keyed request (an Idempotency-Key) offers its command's save the answer it
will give, rendered with a mark where the save's position goes (the position is
drawn only inside the save). `Handlers.commit` hands it to the recorder with
the events; the recorder writes the key's row in the events' own transaction,
the mark replaced by the save's position. Events and answer then commit
together or not at all, and no write of its own is left for the key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from commands.messages import Done


@dataclass(frozen=True)
class KeyedAnswer:
    """The row a recorder writes for an Idempotency-Key beside the events it answers."""

    scope: str
    key: str
    fingerprint: str
    status: int | None  # None: a guard only (the save fails if the key was answered)
    body: bytes  # the mark stands where the save's position goes
    headers: bytes  # JSON object of the answer's headers, with the mark likewise
    mark: str
    expires_at: datetime | None

    @classmethod
    def guard(cls, scope: str, key: str) -> KeyedAnswer:
        """Carried by a save whose answer cannot be told yet: the key must not be answered."""
        return cls(scope, key, "", None, b"", b"", "", None)

    def filled(self, position: int) -> tuple[bytes, bytes]:
        """Body and headers with the save's position in place of the mark."""
        mark, value = self.mark.encode(), str(position).encode()
        return self.body.replace(mark, value), self.headers.replace(mark, value)


class KeyAnswered(Exception):
    """The save's Idempotency-Key was answered first by another request: nothing was saved."""


# The command the answer is for (its causation id), and how to render it for a Done and
# the aggregate the Done is about (None: it cannot be told before the save).
Render = Callable[[Done, Any], KeyedAnswer | None]


class AnswerOffer:
    """A keyed request's answer, offered to the saves of its own command.

    The first save carries the answer, or (when it cannot be told before the save) a
    guard: either way the save fails with KeyAnswered if another request answered the
    key first, so nothing a command writes outlives an answer already given for its key.
    """

    def __init__(self, causation_id: str, render: Render, guard: KeyedAnswer) -> None:
        self.causation_id = causation_id
        self.render, self.guard = render, guard
        self.kept: KeyedAnswer | None = None  # the answer a committed save carried
        self.done: Done | None = None  # what that save's commit reported

    def take(self, causation_id: str, done: Done, primary: Any) -> KeyedAnswer | None:
        if self.kept is not None or causation_id != self.causation_id:
            return None  # answered by our own save, or a command the request's command sent on
        return self.render(done, primary) or self.guard

    def saved(self, answer: KeyedAnswer, done: Done) -> None:
        if answer.status is not None:
            self.kept, self.done = answer, done

    @property
    def position(self) -> int:
        return 0 if self.done is None else self.done.position


_offer: ContextVar[AnswerOffer | None] = ContextVar("slotwise_answer_offer", default=None)


@contextmanager
def offering(offer: AnswerOffer | None) -> Iterator[AnswerOffer | None]:
    """Saves inside this block may carry `offer`'s answer."""
    token = _offer.set(offer)
    try:
        yield offer
    finally:
        _offer.reset(token)


def current_offer() -> AnswerOffer | None:
    return _offer.get()
