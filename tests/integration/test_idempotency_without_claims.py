"""Keyed writes at CRUD speed: a key is read before its command and written once, after it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from infra.idempotency import (
    Claim,
    IdempotencyKeyReused,
    IdempotencyStore,
    StoredResponse,
    command_id_for,
    command_keys,
)


@pytest.fixture
def store(tmp_path: Path) -> IdempotencyStore:
    found = IdempotencyStore(create_engine(f"sqlite:///{tmp_path / 'keys.db'}"))
    found.setup()
    return found


def rows(store: IdempotencyStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(command_keys)).scalar_one())


def test_an_unknown_key_runs_as_a_replay_without_writing_a_claim(store: IdempotencyStore) -> None:
    claim = store.claim("ann", "k1", "fp")
    assert claim == Claim(command_id_for("ann", "k1"), replay=True)
    assert rows(store) == 0  # no transaction before the command


def test_the_first_answer_kept_is_the_one_every_caller_hears(store: IdempotencyStore) -> None:
    first = StoredResponse(201, b'{"id": "b1", "consistency_token": "7"}', {"x": "1"})
    twin = StoredResponse(201, b'{"id": "b1", "consistency_token": "9"}', {"x": "1"})
    assert store.complete("ann", "k2", first, "fp") is None
    assert store.complete("ann", "k2", twin, "fp") == first  # a concurrent twin says the same
    assert store.claim("ann", "k2", "fp") == first
    assert rows(store) == 1


def test_the_same_key_with_another_body_is_refused_once_answered(store: IdempotencyStore) -> None:
    store.complete("ann", "k3", StoredResponse(201, b"{}", {}), "fp")
    with pytest.raises(IdempotencyKeyReused):
        store.claim("ann", "k3", "another body")
    with pytest.raises(IdempotencyKeyReused):
        store.complete("ann", "k3", StoredResponse(201, b"{}", {}), "another body")
    assert isinstance(store.claim("bob", "k3", "another body"), Claim)  # keys are per caller
