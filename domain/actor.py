"""Who issues a command: a verified token's subject and role, or a named system process."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"
    OWNER = "owner"
    ADMIN = "admin"
    AUDITOR = "auditor"
    SYSTEM = "system"


# Roles a bearer token may carry; `system` belongs to our own processes only.
TOKEN_ROLES = frozenset({Role.CUSTOMER, Role.OWNER, Role.ADMIN, Role.AUDITOR})


@dataclass(frozen=True)
class Actor:
    """The caller; `id` is the token's `sub`, or the process name of a system actor."""

    id: str
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_system(self) -> bool:
        return self.role is Role.SYSTEM


def system_actor(name: str) -> Actor:
    """The actor a process (saga, timer, relay) acts as; events record its name."""
    return Actor(name, Role.SYSTEM)
