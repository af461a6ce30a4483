"""A booking's contact and notes as reads show them: opened for those who may see them.

Rows hold ciphertext only (projections/tables.py `booking_personal_data`); this
opens it per request through the key table, so an erasure shows at once in
every read, in every process, without touching a read-model row.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, select

from domain.actor import Actor, Role
from domain.personal import ERASED, NONE, PRESENT, SEALED, Sealed
from projections.tables import booking_personal_data
from read_api import queries
from read_api.queries import Row
from read_api.views import booking_view


class PersonalDataReader(Protocol):
    """The read side's port to the key table (infra/personal_data.py)."""

    def open_all(self, sealed: Sequence[Sealed]) -> list[dict[str, Any] | None]: ...

    def erased_subjects(self, subjects: Iterable[str]) -> set[str]: ...


def sealed_rows(conn: Connection, booking_ids: list[str]) -> dict[str, Sealed]:
    if not booking_ids:
        return {}
    table = booking_personal_data
    query = select(table).where(table.c.booking_id.in_(booking_ids))
    return {
        r.booking_id: Sealed(r.subject, r.key_version, base64.b64decode(r.ciphertext))
        for r in conn.execute(query)
    }


def with_personal_data(
    conn: Connection, rows: list[Row], keys: PersonalDataReader | None, *, may_open: bool
) -> list[Row]:
    """The rows with `contact`, `notes` and `personal_data` (present/erased/none/sealed)."""
    sealed = sealed_rows(conn, [row["id"] for row in rows])
    if not may_open or keys is None:
        return [_shown(row, row["id"] in sealed or bool(row["notes"])) for row in rows]
    order = list(sealed)
    opened = dict(zip(order, keys.open_all([sealed[i] for i in order]), strict=True))
    legacy = {row["customer_id"] for row in rows if row["id"] not in sealed and row["notes"]}
    erased = keys.erased_subjects(legacy) if legacy else set()
    return [_opened(row, sealed, opened, erased) for row in rows]


def _opened(
    row: Row, sealed: dict[str, Sealed], opened: dict[str, dict[str, Any] | None], erased: set[str]
) -> Row:
    if row["id"] in sealed:
        document = opened[row["id"]]
        if document is None:
            return {**row, "contact": None, "notes": None, "personal_data": ERASED}
        return {**row, **document, "personal_data": PRESENT}
    if not row["notes"]:
        return {**row, "contact": None, "notes": None, "personal_data": NONE}
    if row["customer_id"] in erased:  # plain notes of an older release, hidden once erased
        return {**row, "contact": None, "notes": None, "personal_data": ERASED}
    return {**row, "contact": None, "personal_data": PRESENT}


def _shown(row: Row, held: bool) -> Row:
    """What a reader who may not open personal data sees: only whether there is any."""
    return {**row, "contact": None, "notes": None, "personal_data": SEALED if held else NONE}


def complete(
    conn: Connection, rows: list[Row], keys: PersonalDataReader | None, actor: Actor
) -> list[Row]:
    """The rows with their payments and, for whoever may see it, their personal data."""
    rows = queries.with_payments(conn, rows)
    may_open = actor.role is not Role.AUDITOR  # auditors see that it exists, not what it says
    return with_personal_data(conn, rows, keys, may_open=may_open)


def personal_export(
    conn: Connection, keys: PersonalDataReader | None, subject: str
) -> dict[str, Any]:
    """The export document of `subject` (`GET /v1/me/export`, `slotwise customers export`)."""
    rows = complete(
        conn, queries.list_customer_bookings(conn, subject), keys, Actor(subject, Role.CUSTOMER)
    )
    return {"customer_id": subject, "bookings": [booking_view(r) for r in rows]}
