"""Commands on webhooks: create, change, rotate the secret, replay, disable, delete."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from commands.messages import BusinessCommand, Command


@dataclass(frozen=True)
class CreateWebhook(BusinessCommand):
    url: str
    events: tuple[str, ...]
    description: str = ""

    def target(self) -> UUID:
        return self.context.new_id("webhook")


@dataclass(frozen=True)
class WebhookCommand(Command):
    """A command on one existing webhook."""

    webhook_id: UUID

    def target(self) -> UUID:
        return self.webhook_id


@dataclass(frozen=True)
class ChangeWebhook(WebhookCommand):
    """Change any of url, events and enabled; None leaves a field as it is."""

    url: str | None = None
    events: tuple[str, ...] | None = None
    enabled: bool | None = None


@dataclass(frozen=True)
class RotateWebhookSecret(WebhookCommand):
    pass


@dataclass(frozen=True)
class ReplayWebhook(WebhookCommand):
    after_position: int = 0


@dataclass(frozen=True)
class DeleteWebhook(WebhookCommand):
    pass


@dataclass(frozen=True)
class DisableWebhook(WebhookCommand):
    """Sent by the delivery worker (a system actor): the endpoint is gone or kept failing."""

    reason: str = ""
    event_id: str = ""
