"""Webhook secrets in their own table next to the events (like the personal-data keys)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import Engine, insert, select

from commands.processes.webhooks.signing import new_secret
from infra.webhooks.tables import metadata, webhook_secrets


class SqlWebhookSecrets:
    """Issues secrets (stored before the event that names them) and reveals them to sign."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def setup(self) -> None:
        metadata.create_all(self.engine)

    def issue(self) -> tuple[str, str]:
        secret_id, secret = str(uuid4()), new_secret()
        with self.engine.begin() as conn:
            row = {"id": secret_id, "secret": secret, "created_at": datetime.now(UTC)}
            conn.execute(insert(webhook_secrets).values(row))
        return secret_id, secret

    def reveal(self, secret_ids: Iterable[str]) -> list[str]:
        ids = list(secret_ids)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(webhook_secrets.c.id, webhook_secrets.c.secret).where(
                    webhook_secrets.c.id.in_(ids)
                )
            )
            found = {r.id: r.secret for r in rows}
        return [found[i] for i in ids if i in found]
