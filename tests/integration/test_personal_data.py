"""Personal data is sealed under a key per customer: no plain text in the event store or the
envelopes, before or after an erase; an erase changes no count, no read-model row and no
stored event, only adds its own (both stores)."""

from __future__ import annotations

import base64
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select, text

from commands.messages import AddClosure, CancelBooking, ErasePersonalData, PlaceBooking
from domain.actor import Actor, Role
from domain.personal import Contact
from infra.bootstrap import Container
from infra.envelopes import envelope_from_record, envelope_to_json
from infra.rebuild import rebuild
from projections.tables import availability_stamps, metadata
from read_api.personal import personal_export
from tests.unit.builders import every_day, open_salon, owner

ANN = Actor("ann", Role.CUSTOMER)
ADMIN = Actor("admin-1", Role.ADMIN)
NOTE = "allergic to lavender oil"
CONTACT = Contact("Ann Example", "ann.example@mail.test", "+4915112345678", "de-DE")
REASON = "my divorce hearing moved"
SECRETS = (NOTE, CONTACT.name, CONTACT.email, CONTACT.phone, REASON)
DAY = datetime(2027, 3, 2, 14, tzinfo=UTC)


def salon(container: Container, capacity: int = 1) -> UUID:
    weekly = every_day("00:00", "23:00", ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    _, service_id = open_salon(
        container.app, owner(), timezone="UTC", capacity=capacity, weekly=weekly
    )
    return service_id


def place(container: Container, service_id: UUID, start: datetime, who: Actor = ANN) -> UUID:
    command = PlaceBooking(who, service_id, start, NOTE, contact=CONTACT)
    return container.app.handle(command).id


def raw_states(container: Container) -> list[bytes]:
    """The state column of every stored event, as the database holds it."""
    table = container.app.recorder.events_table_name  # type: ignore[attr-defined]
    assert container.event_store_tables is not None
    with container.event_store_tables.connect() as conn:
        return [bytes(row[0]) for row in conn.execute(text(f"SELECT state FROM {table}"))]


def envelopes_json(container: Container) -> list[bytes]:
    """What the relay would publish: every envelope's JSON."""
    app = container.app
    records = app.recorder.select_notifications(start=1, limit=100_000)
    return [envelope_to_json(envelope_from_record(r, app.mapper)) for r in records]


def assert_no_plain_text(blobs: list[bytes]) -> None:
    for blob in blobs:
        for secret in SECRETS:
            assert secret is not None and secret.encode() not in blob, secret


def read_tables(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model row (the random availability stamps aside), in a stable order."""
    with container.read_db.reader.connect() as conn:
        return {
            table.name: sorted(conn.execute(select(table)).all(), key=repr)
            for table in metadata.sorted_tables
            if table is not availability_stamps
        }


def export(container: Container, subject: str) -> dict[str, Any]:
    with container.read_db.reader.connect() as conn:
        return personal_export(conn, container.personal_data, subject)


def test_contact_and_notes_never_reach_the_store_or_the_envelopes_in_plain_text(
    container: Container,
) -> None:
    service_id = salon(container)
    place(container, service_id, DAY)
    assert_no_plain_text(raw_states(container))
    assert_no_plain_text(envelopes_json(container))
    placed = [e for e in envelopes_json(container) if b"slotwise.booking.placed" in e]
    assert b'"ciphertext"' in placed[0] and b'"subject":"ann"' in placed[0]

    container.app.handle(ErasePersonalData(ANN, "ann"))

    assert_no_plain_text(raw_states(container))
    assert_no_plain_text(envelopes_json(container))
    erased = [e for e in envelopes_json(container) if b"personal_data.erased" in e]
    assert len(erased) == 1 and b"ann" in erased[0]


def test_the_export_shows_the_data_before_the_erase_and_erased_after(
    container: Container,
) -> None:
    service_id = salon(container)
    booking_id = place(container, service_id, DAY)
    container.catch_up()

    [before] = export(container, "ann")["bookings"]
    assert before["id"] == str(booking_id) and before["personal_data"] == "present"
    assert before["notes"] == NOTE and before["contact"]["email"] == CONTACT.email

    container.app.handle(ErasePersonalData(ANN, "ann"))
    container.catch_up()

    [after] = export(container, "ann")["bookings"]
    assert after["personal_data"] == "erased"
    assert after["notes"] is None and after["contact"] is None
    assert after["status"] == before["status"] and after["start"] == before["start"]


def test_an_erase_changes_no_stored_event_no_read_row_and_a_rebuild_agrees(
    container: Container,
) -> None:
    service_id = salon(container, capacity=2)
    for hour in range(3):
        place(container, service_id, DAY + timedelta(hours=hour))
    place(container, service_id, DAY, Actor("bob", Role.CUSTOMER))
    container.catch_up()
    states, tables = raw_states(container), read_tables(container)

    container.app.handle(ErasePersonalData(ADMIN, "ann"))
    container.catch_up()

    added = Counter(raw_states(container)) - Counter(states)
    assert sum(added.values()) == 1 and len(raw_states(container)) == len(states) + 1
    assert b"PersonalData" in next(iter(added))
    assert read_tables(container) == tables  # stats, availability, bookings: all unchanged
    rebuild(container.app.recorder, container.app.mapper, container.runtime)
    assert read_tables(container) == tables
    [bob] = export(container, "bob")["bookings"]
    assert bob["personal_data"] == "present" and bob["notes"] == NOTE


def test_a_customer_who_books_again_after_an_erase_gets_a_fresh_key(
    container: Container,
) -> None:
    service_id = salon(container)
    place(container, service_id, DAY)
    container.app.handle(ErasePersonalData(ANN, "ann"))
    place(container, service_id, DAY + timedelta(hours=1))
    container.catch_up()

    shown = [b["personal_data"] for b in export(container, "ann")["bookings"]]

    assert shown == ["erased", "present"]
    done = container.app.handle(ErasePersonalData(ANN, "ann"))  # a second erase is recorded too
    assert done.version == 2
    container.catch_up()
    assert [b["personal_data"] for b in export(container, "ann")["bookings"]] == ["erased"] * 2


def test_only_the_customer_or_an_admin_may_erase(container: Container) -> None:
    from domain.errors import RoleNotAllowed

    for who in (Actor("bob", Role.CUSTOMER), owner(), Actor("audit", Role.AUDITOR)):
        with pytest.raises(RoleNotAllowed):
            container.app.handle(ErasePersonalData(who, "ann"))


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_thousand_bookings_all_read_erased(container: Container) -> None:
    service_id = salon(container, capacity=5)
    for n in range(1000):  # 20 days of 10 hours of 5 (each day's allocation stays small)
        place(container, service_id, DAY.replace(hour=0) + timedelta(n // 50, hours=n % 50 // 5))
    container.catch_up()

    container.app.handle(ErasePersonalData(ANN, "ann"))

    shown = export(container, "ann")["bookings"]
    assert len(shown) == 1000
    assert {b["personal_data"] for b in shown} == {"erased"}
    assert {b["notes"] for b in shown} == {None}


def test_sealed_values_travel_as_base64_ciphertext(container: Container) -> None:
    service_id = salon(container)
    place(container, service_id, DAY)
    [placed] = [
        envelope_from_record(r, container.app.mapper)
        for r in container.app.recorder.select_notifications(start=1, limit=100)
        if b"Placed" in r.topic.encode()
    ]
    sealed = placed.data["personal_data"]
    assert sealed["subject"] == "ann" and sealed["key_version"] == 1
    assert len(base64.b64decode(sealed["ciphertext"])) > 12 + 16  # nonce, text, tag


def test_a_cancellation_reason_never_reaches_the_store_or_the_envelopes_in_plain_text(
    container: Container,
) -> None:
    service_id = salon(container)
    booking_id = container.app.handle(PlaceBooking(ANN, service_id, DAY)).id  # no notes
    container.app.handle(CancelBooking(ANN, booking_id, REASON))
    container.catch_up()
    assert_no_plain_text(raw_states(container))
    assert_no_plain_text(envelopes_json(container))
    assert all(REASON not in repr(rows) for rows in read_tables(container).values())
    [shown] = export(container, "ann")["bookings"]
    assert (shown["cancel_reason"], shown["personal_data"]) == (REASON, "present")

    container.app.handle(ErasePersonalData(ANN, "ann"))
    container.catch_up()

    assert_no_plain_text(raw_states(container))
    [after] = export(container, "ann")["bookings"]
    assert (after["cancel_reason"], after["personal_data"]) == (None, "erased")
    assert after["status"] == "cancelled"


def test_a_closure_reason_is_the_business_s_and_stays_plain(container: Container) -> None:
    service_id = salon(container)
    business_id = container.app.repository.get(service_id).business_id
    start = DAY + timedelta(days=7)
    closure = AddClosure(owner(), business_id, start, start + timedelta(hours=2), "staff training")
    container.app.handle(closure)
    assert any(b"staff training" in state for state in raw_states(container))
