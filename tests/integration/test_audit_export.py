"""The export: JSON Lines of CloudEvents carrying the chain, verified offline, tampering named."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson

from infra.audit.export import ExportFilter, export_lines
from infra.audit.offline import verify_export
from infra.audit.verify import verify_store
from infra.bootstrap import Container
from tests.integration.audit_helpers import RawStore, history
from tests.unit.builders import book, customer, new_york


def export(container: Container, wanted: ExportFilter | None = None) -> list[bytes]:
    log = RawStore(container).log
    return list(export_lines(log, container.app.mapper, wanted or ExportFilter()))


def test_a_full_export_verifies_offline_to_the_stores_head(container: Container) -> None:
    history(container.app)
    lines = export(container)
    store = verify_store(RawStore(container).log)
    verdict = verify_export(lines)
    assert verdict.ok and verdict.sentence() == store.sentence()
    first = orjson.loads(lines[0])
    assert first["specversion"] == "1.0" and first["prevhash"] == "00" * 32
    assert {"chainhash", "recordtopic", "recordstate", "exportscope", "actorid"} <= first.keys()


def test_a_tampered_export_line_is_named(container: Container) -> None:
    history(container.app)
    lines = export(container)
    cancelled = next(n for n, line in enumerate(lines) if b"booking.cancelled" in line)
    line = orjson.loads(lines[cancelled])
    line["data"]["reason"], line["actorid"] = "no reason", "someone-else"
    forged = [*lines[:cancelled], orjson.dumps(line), *lines[cancelled + 1 :]]
    verdict = verify_export(forged)
    assert not verdict.ok
    assert verdict.sentence().startswith(f"position {line['position']}: ")
    assert "altered" in verdict.sentence()


def test_a_line_removed_from_a_full_export_is_named(container: Container) -> None:
    history(container.app)
    lines = export(container)
    after_gap = orjson.loads(lines[4])["position"]
    verdict = verify_export([*lines[:3], *lines[4:]])
    assert (verdict.ok, verdict.position) == (False, after_gap)


def test_a_businesss_export_holds_its_aggregates_and_verifies_one_by_one(
    container: Container,
) -> None:
    business_id, service_id = history(container.app, slug="mine")
    other_id, _ = history(container.app, slug="theirs")
    lines = export(container, ExportFilter(business_id=business_id))
    events = [orjson.loads(line) for line in lines]
    kinds = {e["aggregatetype"] for e in events}
    assert {"business", "service", "booking", "day_allocation"} <= kinds
    assert all(e["exportscope"] == f"business:{business_id}" for e in events)
    assert str(other_id) not in {e["subject"] for e in events}
    assert str(service_id) in {e["subject"] for e in events}
    verdict = verify_export(lines)
    assert verdict.ok and verdict.events == len(lines)
    assert "one by one" in verdict.sentence()
    line = orjson.loads(lines[2])
    line["data"]["forged"] = True
    assert not verify_export([*lines[:2], orjson.dumps(line), *lines[3:]]).ok


def test_after_and_until_give_a_stretch_whose_chain_holds(container: Container) -> None:
    history(container.app)
    everything = export(container)
    middle = orjson.loads(everything[3])
    stretch = export(container, ExportFilter(after=middle["position"]))
    assert stretch == everything[4:]
    assert verify_export(stretch).ok
    assert f"follows chain hash {middle['chainhash']}" in verify_export(stretch).sentence()
    from datetime import datetime, timedelta

    before = datetime.fromisoformat(middle["time"]) - timedelta(seconds=1)
    assert export(container, ExportFilter(until=before)) == []


def test_an_export_and_writes_run_at_once(container: Container, tmp_path: Path) -> None:
    _, service_id = history(container.app)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for n in range(40):
                start = new_york(8 + n // 8, 9 + n % 8)
                book(container.app, customer(f"c{n}"), service_id, start)
        except BaseException as error:  # the test reports it
            errors.append(error)

    writer = threading.Thread(target=write)
    writer.start()
    exports = []
    while writer.is_alive():
        exports.append(export(container))
    writer.join()
    assert not errors and exports
    assert all(verify_export(lines).ok for lines in exports)
    assert (
        verify_export(export(container)).sentence()
        == verify_store(RawStore(container).log).sentence()
    )
