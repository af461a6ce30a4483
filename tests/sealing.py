"""Personal-data keys for apps tests build by hand: the real key table, in an in-memory SQLite."""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from commands.app import SlotWise
from infra.personal_data import PersonalDataKeys


def keys_in_memory() -> PersonalDataKeys:
    engine = create_engine("sqlite://", poolclass=StaticPool)
    keys = PersonalDataKeys(engine)
    keys.setup()
    return keys


def with_keys(app: SlotWise) -> SlotWise:
    """The app, able to seal personal data (notes, contact, cancellation reasons)."""
    app.sealer = keys_in_memory()
    return app
