"""Shared machinery of the command handlers: loading, authorising, retrying, saving."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from commands.messages import Done
from domain.actor import Actor, Role
from domain.business import Business
from domain.errors import (
    BusinessNotFound,
    ConcurrencyConflict,
    NotFound,
    NotYourBusiness,
    RoleNotAllowed,
)

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")
STAFF_ROLES = frozenset({Role.OWNER, Role.ADMIN})


def utc_now() -> datetime:
    return datetime.now(UTC)


class Handlers(Application[UUID]):
    """Base of the command handlers: an eventsourcing Application with helpers."""

    max_attempts = 12

    def __init__(
        self, env: dict[str, str] | None = None, clock: Callable[[], datetime] = utc_now
    ) -> None:
        super().__init__(env)
        self.clock = clock
        self.on_conflict_retry: Callable[[], None] = lambda: None  # metrics hook

    def load(self, cls: type[A], aggregate_id: UUID, missing: type[NotFound]) -> A:
        """The aggregate, or `missing` when no aggregate of that type has that id."""
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise missing(f"no {cls.__name__.lower()} with id {aggregate_id}") from None
        if not isinstance(aggregate, cls):
            raise missing(f"no {cls.__name__.lower()} with id {aggregate_id}")
        return aggregate

    def load_or_none(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def commit(self, primary: Aggregate, *others: Aggregate) -> Done:
        """Save all aggregates atomically and report the primary one."""
        recordings = self.save(primary, *others)
        position = max((r.notification.id for r in recordings), default=0)
        return Done(id=primary.id, version=primary.version, position=position)

    def retrying(
        self, attempt: Callable[[], R], on_conflict: Callable[[], None] | None = None
    ) -> R:
        """Run `attempt` again when a concurrent writer got there first."""
        for n in range(self.max_attempts):
            try:
                return attempt()
            except IntegrityError:
                self.on_conflict_retry()
                if on_conflict is not None:
                    on_conflict()
                time.sleep(random.uniform(0, 0.002 * 2 ** min(n, 6)))
        raise ConcurrencyConflict(
            f"gave up after {self.max_attempts} attempts against concurrent writers; retry"
        )

    def owned_business(self, actor: Actor, business_id: UUID) -> Business:
        """The business, if `actor` is staff allowed to act on it."""
        require_role(actor, STAFF_ROLES)
        business = self.load(Business, business_id, BusinessNotFound)
        if not actor.is_admin and business.owner_id != actor.id:
            raise NotYourBusiness("only the owner of this business (or an admin) may do this")
        return business


def require_role(actor: Actor, roles: frozenset[Role]) -> None:
    if actor.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise RoleNotAllowed(f"role {actor.role.value} may not do this (needs: {allowed})")


def deduplicate(aggregates: list[Any]) -> list[Any]:
    seen: dict[UUID, Any] = {}
    for aggregate in aggregates:
        seen.setdefault(aggregate.id, aggregate)
    return list(seen.values())
