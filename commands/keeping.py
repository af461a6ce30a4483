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
    status: int
    body: bytes  # the mark stands where the save's position goes
    headers: bytes  # JSON object of the answer's headers, with the mark likewise
    mark: str
    expires_at: datetime

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
    """A keyed request's answer, offered to the first save of its own command."""

    def __init__(self, causation_id: str, render: Render) -> None:
        self.causation_id = causation_id
        self.render = render
        self.kept: KeyedAnswer | None = None  # what a committed save carried
        self.position = 0  # that save's position

    def take(self, causation_id: str, done: Done, primary: Any) -> KeyedAnswer | None:
        if self.kept is not None or causation_id != self.causation_id:
            return None  # kept already, or a command the request's command sent on
        return self.render(done, primary)

    def saved(self, answer: KeyedAnswer, position: int) -> None:
        self.kept, self.position = answer, position


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
