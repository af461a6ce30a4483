"""The committed JSON Schemas and AsyncAPI document are what the code generates."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from domain.envelope import PUBLIC_AGGREGATE_TYPES
from infra.contract.generate import drifted, rendered
from infra.contract.schemas import all_schemas
from tests.unit.test_envelopes import EVENT_TYPES

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_committed_contract_matches_the_event_classes() -> None:
    stale = drifted(DOCS)
    assert not stale, f"run `slotwise contract generate`: {stale} drifted from the code"


def test_drift_is_noticed(tmp_path: Path) -> None:
    for relative, text in rendered().items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    assert drifted(tmp_path) == []
    placed = tmp_path / "schemas" / "slotwise.booking.placed.json"
    placed.write_text(placed.read_text().replace('"legacy_notes"', '"remarks"'))
    assert drifted(tmp_path) == ["schemas/slotwise.booking.placed.json"]


def test_there_is_a_valid_schema_for_every_public_event_type() -> None:
    public = {t for t in EVENT_TYPES if t.split(".")[1] in PUBLIC_AGGREGATE_TYPES}
    schemas = all_schemas()
    assert set(schemas) == public
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)


def test_the_asyncapi_document_has_a_channel_per_topic_and_every_message() -> None:
    document = yaml.safe_load((DOCS / "asyncapi.yaml").read_text())
    assert document["asyncapi"].startswith("3.")
    addresses = {c["address"] for c in document["channels"].values()}
    assert addresses == {
        "slotwise.business",
        "slotwise.service",
        "slotwise.booking",
        "slotwise.waitlist_entry",
    }
    names = {m["name"] for m in document["components"]["messages"].values()}
    assert names == set(all_schemas())
    for name, schema in all_schemas().items():
        payload = document["components"]["schemas"][name]
        assert json.dumps(payload, sort_keys=True) == json.dumps(
            {k: v for k, v in schema.items() if k != "$schema"}, sort_keys=True
        )
