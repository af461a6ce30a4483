"""The hash chain: written with every save, recomputed by verify, which names what was tampered."""

from __future__ import annotations

import threading

import pytest

from infra.audit.verify import verify_store
from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from tests.conftest import FrozenClock
from tests.integration.audit_helpers import RawStore, history
from tests.unit.builders import book, customer, new_york


def test_a_store_verifies_to_its_head(container: Container) -> None:
    history(container.app)
    raw = RawStore(container)
    verdict = verify_store(raw.log)
    positions = raw.positions()
    assert verdict.ok, verdict.sentence()
    assert verdict.events == len(positions) > 5
    assert raw.log.head() == (positions[-1], verdict.head)
    assert verdict.sentence() == (
        f"{len(positions)} events verified; head {verdict.head.hex()} at position {positions[-1]}"
    )


def edit(raw: RawStore, at: int) -> None:
    state = raw.run("SELECT state FROM {events} WHERE {id} = ?", at)[0][0]
    forged = bytes(state).replace(b"alice", b"mallory").replace(b"owner", b"ownex")
    assert forged != bytes(state)
    raw.run("UPDATE {events} SET state = ? WHERE {id} = ?", forged, at)


def delete(raw: RawStore, at: int) -> None:
    raw.run("DELETE FROM {events} WHERE {id} = ?", at)


def delete_with_link(raw: RawStore, at: int) -> None:
    delete(raw, at)
    raw.run("DELETE FROM {chain} WHERE position = ?", at)


def swap(raw: RawStore, at: int) -> None:
    raw.run("UPDATE {events} SET {id} = ? WHERE {id} = ?", -at, at)
    raw.run("UPDATE {events} SET {id} = ? WHERE {id} = ?", at, at + 1)
    raw.run("UPDATE {events} SET {id} = ? WHERE {id} = ?", at + 1, -at)


@pytest.mark.parametrize(
    ("tamper", "says"),
    [
        (edit, "altered"),
        (delete, "removed"),
        (delete_with_link, "the chain breaks here"),
        (swap, "the chain breaks here"),
    ],
)
def test_verify_names_the_first_tampered_position(
    container: Container, tamper: object, says: str
) -> None:
    history(container.app)
    raw = RawStore(container)
    at = raw.positions()[3]
    tamper(raw, at)  # type: ignore[operator]
    verdict = verify_store(raw.log)
    expected_at = raw.positions()[3] if tamper is delete_with_link else at
    assert not verdict.ok
    assert verdict.position == expected_at
    assert verdict.sentence().startswith(f"position {expected_at}: ")
    assert says in verdict.sentence()


def test_a_record_inserted_behind_the_recorders_back_is_named(container: Container) -> None:
    history(container.app)
    raw = RawStore(container)
    last = raw.positions()[-1]
    row = raw.run(
        "SELECT originator_id, originator_version, topic, state FROM {events} WHERE {id} = ?", last
    )[0]
    raw.run("DELETE FROM {events} WHERE {id} = ?", last)
    raw.run("DELETE FROM {chain} WHERE position = ?", last)
    columns = "{id}, originator_id, originator_version, topic, state"
    raw.run(f"INSERT INTO {{events}} ({columns}) VALUES (?, ?, ?, ?, ?)", last + 5, *row)
    verdict = verify_store(raw.log)
    assert (verdict.ok, verdict.position) == (False, last + 5)
    assert "inserted" in (verdict.failure or "")


def test_a_failed_save_leaves_no_link(container: Container) -> None:
    """A version conflict rolls back the save's chain hashes with its events."""
    from eventsourcing.persistence import IntegrityError, StoredEvent

    business_id, _ = history(container.app)
    recorder = container.app.recorder
    taken = StoredEvent(business_id, 1, "probe", b"{}")
    with pytest.raises(IntegrityError):
        recorder.insert_events([StoredEvent(business_id, 999, "x", b"{}"), taken])
    raw = RawStore(container)
    assert len(raw.run("SELECT position FROM {chain}")) == len(raw.positions())
    history(container.app, slug="after")
    assert verify_store(raw.log).ok


def test_the_migration_chains_a_store_written_without_the_chain(
    settings: Settings, clock: FrozenClock
) -> None:
    first = bootstrap(settings, clock=clock)
    try:
        history(first.app)
        raw = RawStore(first)
        head = raw.log.head()
        raw.run("DELETE FROM {chain}")  # as a store written before the chain existed
        assert raw.log.head() is None
    finally:
        first.close()
    again = bootstrap(settings, clock=clock)
    try:
        raw = RawStore(again)
        assert raw.log.head() == head
        verdict = verify_store(raw.log)
        assert verdict.ok and verdict.events == len(raw.positions())
    finally:
        again.close()


def test_verify_and_writes_run_at_once(container: Container) -> None:
    _, service_id = history(container.app)
    raw = RawStore(container)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for n in range(40):
                start = new_york(8 + n // 8, 9 + n % 8)
                book(container.app, customer(f"customer-{n}"), service_id, start)
        except BaseException as error:  # the test reports it
            errors.append(error)

    writer = threading.Thread(target=write)
    writer.start()
    verdicts = []
    while writer.is_alive():
        verdicts.append(verify_store(raw.log, page=7))
    writer.join()
    assert not errors
    assert verdicts and all(v.ok for v in verdicts), [v.sentence() for v in verdicts]
    final = verify_store(raw.log)
    assert final.ok and final.events == len(raw.positions())
