"""Who issues a command: the subject and role of a verified bearer token."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"
    OWNER = "owner"
    ADMIN = "admin"
    AUDITOR = "auditor"


@dataclass(frozen=True)
class Actor:
    """The authenticated caller; `id` is the token's `sub`."""

    id: str
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN
