"""Command handlers for personal data: erase a customer's (crypto-shredding).

The ports live here, beside their users: placing a booking seals its contact
and notes through `Sealer` before the Placed event exists; erasing deletes the
customer's key through it. Adapters: infra/personal_data.py.
"""

from __future__ import annotations

from typing import Any, Protocol

from commands.base import Handlers, handles, retry_on_conflict
from commands.messages import Done, ErasePersonalData
from domain.actor import Role
from domain.errors import RoleNotAllowed
from domain.personal import PersonalData, Sealed


class Sealer(Protocol):
    """Encrypts personal data under its subject's key, and destroys that key."""

    def seal(self, subject: str, document: dict[str, Any]) -> Sealed: ...

    def erase(self, subject: str) -> int:
        """Delete the subject's key; the generation destroyed (0: there was none)."""
        ...


class NoSealer:
    """Stands in until the composition root sets keys: it refuses to keep personal data."""

    def seal(self, subject: str, document: dict[str, Any]) -> Sealed:
        raise RuntimeError("no personal-data keys are configured (see infra/personal_data.py)")

    def erase(self, subject: str) -> int:
        raise RuntimeError("no personal-data keys are configured (see infra/personal_data.py)")


class PersonalDataHandlers(Handlers):
    sealer: Sealer = NoSealer()

    @handles(ErasePersonalData)
    @retry_on_conflict
    def erase_personal_data(self, cmd: ErasePersonalData) -> Done:
        if cmd.actor.role is not Role.ADMIN and (
            cmd.actor.role is not Role.CUSTOMER or cmd.actor.id != cmd.customer_id
        ):
            raise RoleNotAllowed("only an admin or the customer themself may erase their data")
        # The key goes first: once the customer asked, nothing may read their data again,
        # even if recording the erasure fails (a retry records it).
        key_version = self.sealer.erase(cmd.customer_id)
        found = self.load_or_none(PersonalData, cmd.target(), fresh=True)
        if found is None:
            record = PersonalData(subject=cmd.customer_id, key_version=key_version)
        else:
            record = found
            record.erase_again(key_version)
        return self.commit(record)
