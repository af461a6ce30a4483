"""A booking's contact, notes and cancel reason as reads show them, for those who may.

Rows hold ciphertext only (projections/tables.py `booking_personal_data`,
`booking_cancel_reasons`); this
opens it per request through the key table, so an erasure shows at once in
every read, in every process, without touching a read-model row.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, Table, select

from domain.actor import Actor, Role
from domain.personal import ERASED, NONE, PRESENT, SEALED, Sealed
from projections.tables import booking_cancel_reasons, booking_personal_data
from read_api import queries
from read_api.queries import Row
from read_api.views import booking_view


class PersonalDataReader(Protocol):
    """The read side's port to the key table (infra/personal_data.py)."""

    def open_all(self, sealed: Sequence[Sealed]) -> list[dict[str, Any] | None]: ...

    def erased_subjects(self, subjects: Iterable[str]) -> set[str]: ...


def sealed_rows(conn: Connection, booking_ids: list[str], table: Table) -> dict[str, Sealed]:
    if not booking_ids:
        return {}
    query = select(table).where(table.c.booking_id.in_(booking_ids))
    return {
        r.booking_id: Sealed(r.subject, r.key_version, base64.b64decode(r.ciphertext))
        for r in conn.execute(query)
    }


def with_personal_data(
    conn: Connection, rows: list[Row], keys: PersonalDataReader | None, *, may_open: bool
) -> list[Row]:
    """The rows with `contact`, `notes`, `cancel_reason` and `personal_data`
    (present/erased/none/sealed)."""
    ids = [row["id"] for row in rows]
    notes = sealed_rows(conn, ids, booking_personal_data)
    reasons = sealed_rows(conn, ids, booking_cancel_reasons)
    if not may_open or keys is None:
        return [_shown(row, _holds(row, notes, reasons)) for row in rows]
    order = [(i, notes[i]) for i in notes] + [(i, reasons[i]) for i in reasons]
    documents = keys.open_all([sealed for _, sealed in order])
    opened_notes = dict(zip(notes, documents[: len(notes)], strict=True))
    opened_reasons = dict(zip(reasons, documents[len(notes) :], strict=True))
    legacy = {row["customer_id"] for row in rows if _plain(row, notes, reasons)}
    erased = keys.erased_subjects(legacy) if legacy else set()
    return [_opened(row, notes, opened_notes, reasons, opened_reasons, erased) for row in rows]


def _plain(row: Row, notes: dict[str, Sealed], reasons: dict[str, Sealed]) -> bool:
    """Whether the row holds text an earlier release stored in plain (notes or a reason)."""
    plain_notes = row["id"] not in notes and bool(row["notes"])
    return plain_notes or (row["id"] not in reasons and bool(row.get("cancel_reason")))


def _holds(row: Row, notes: dict[str, Sealed], reasons: dict[str, Sealed]) -> bool:
    return row["id"] in notes or row["id"] in reasons or _plain(row, notes, reasons)


def _opened(
    row: Row,
    notes: dict[str, Sealed],
    opened_notes: dict[str, dict[str, Any] | None],
    reasons: dict[str, Sealed],
    opened_reasons: dict[str, dict[str, Any] | None],
    erased: set[str],
) -> Row:
    if not _holds(row, notes, reasons):
        return {**row, "contact": None, "notes": None, "personal_data": NONE}
    gone = row["customer_id"] in erased  # plain text of an older release, hidden once erased
    shown: Row = {**row, "contact": None, "notes": None if gone else (row["notes"] or None)}
    shown["cancel_reason"] = None if gone else row.get("cancel_reason")
    lost = gone
    if row["id"] in notes:
        document = opened_notes[row["id"]]
        lost = lost or document is None
        shown.update(document or {"contact": None, "notes": None})
    if row["id"] in reasons:
        document = opened_reasons[row["id"]]
        lost = lost or document is None
        shown["cancel_reason"] = document["reason"] if document else None
    return {**shown, "personal_data": ERASED if lost else PRESENT}


def _shown(row: Row, held: bool) -> Row:
    """What a reader who may not open personal data sees: only whether there is any."""
    return {
        **row,
        "contact": None,
        "notes": None,
        "cancel_reason": None if held else row.get("cancel_reason"),
        "personal_data": SEALED if held else NONE,
    }


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
