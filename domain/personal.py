"""Personal data: a booking's contact and notes, kept only as ciphertext under a per-customer key.

The command side seals the plaintext before any event exists, so events hold a
`Sealed` value and never the text itself. Erasing a customer deletes their key
(crypto-shredding) and records `PersonalData.Erased`, which names the customer
and nothing they wrote.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import Aggregate

PERSONAL_DATA_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotwise.dev/personal-data")
# What reads show in `personal_data`.
PRESENT, ERASED, NONE, SEALED = "present", "erased", "none", "sealed"


@dataclass(frozen=True)
class Contact:
    """How to reach the customer about one booking; every field optional."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    locale: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


@dataclass(frozen=True)
class Sealed:
    """AES-GCM ciphertext (nonce first) of a small JSON document, under `subject`'s key
    generation `key_version`; unreadable for ever once that key is erased."""

    subject: str
    key_version: int
    ciphertext: bytes


def personal_document(contact: Contact | None, notes: str) -> dict[str, Any] | None:
    """The plaintext to seal, or None when the booking carries no personal data."""
    if contact is None and not notes:
        return None
    return {"contact": contact.as_dict() if contact else None, "notes": notes or None}


def personal_data_id(subject: str) -> UUID:
    """The id of the aggregate that records erasures of `subject`'s personal data."""
    return uuid5(PERSONAL_DATA_NAMESPACE, subject)


class PersonalData(Aggregate):
    """The erasures of one customer's personal data (their keys live outside the log)."""

    @staticmethod
    def create_id(subject: str, key_version: int) -> UUID:
        return personal_data_id(subject)

    @event("Erased")
    def __init__(self, subject: str, key_version: int) -> None:
        """`key_version`: the key generation destroyed (0: the customer had no key)."""
        self.subject = subject
        self.erasures = 1

    def erase_again(self, key_version: int) -> None:
        self._erased_again(key_version)

    @event("ErasedAgain")
    def _erased_again(self, key_version: int) -> None:
        self.erasures += 1
