"""The one rule for who may act on a business: its owner, an admin, or a system process."""

from __future__ import annotations

from domain.actor import Actor, Role
from domain.errors import NotYourBusiness, RoleNotAllowed

STAFF_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.SYSTEM})


def is_staff(actor: Actor, owner_id: str) -> bool:
    """May `actor` act as staff of a business owned by `owner_id`?"""
    if actor.role in (Role.ADMIN, Role.SYSTEM):
        return True
    return actor.role is Role.OWNER and actor.id == owner_id


def require_role(actor: Actor, roles: frozenset[Role]) -> None:
    if actor.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise RoleNotAllowed(f"role {actor.role.value} may not do this (needs: {allowed})")


def require_staff(actor: Actor, owner_id: str) -> None:
    """Raise unless `actor` is staff of the business owned by `owner_id`."""
    require_role(actor, STAFF_ROLES)
    if not is_staff(actor, owner_id):
        raise NotYourBusiness("only the owner of this business (or an admin) may do this")
