"""Command handlers for webhooks; the secret is issued by a port and never put in an event."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

from commands.base import Handlers, handles, retry_on_conflict
from commands.messages import Done
from commands.webhook_messages import (
    ChangeWebhook,
    CreateWebhook,
    DeleteWebhook,
    DisableWebhook,
    ReplayWebhook,
    RotateWebhookSecret,
    WebhookCommand,
)
from domain.access import require_role
from domain.actor import Role
from domain.webhook import Webhook, WebhookNotFound, check_patterns

ROTATION_GRACE = timedelta(hours=24)  # the old secret still signs this long after a rotation


class WebhookSecrets(Protocol):
    """Where webhook secrets live (their own table): issue one, get its id and its text."""

    def issue(self) -> tuple[str, str]: ...


class UrlPolicy(Protocol):
    """Whether SlotWise may call a URL (https, public addresses); raises InvalidWebhook."""

    def check(self, url: str) -> str: ...


class NoSecrets:
    def issue(self) -> tuple[str, str]:
        raise RuntimeError("no webhook secret store configured")


class AnyUrl:
    def check(self, url: str) -> str:
        return url


def webhook_summary(webhook: Webhook) -> dict[str, Any]:
    return {
        "business_id": str(webhook.business_id),
        "url": webhook.url,
        "events": list(webhook.events),
        "description": webhook.description,
        "enabled": webhook.enabled,
    }


class WebhookHandlers(Handlers):
    webhook_secrets: WebhookSecrets = NoSecrets()
    webhook_urls: UrlPolicy = AnyUrl()

    def owned_webhook(self, cmd: WebhookCommand) -> Webhook:
        webhook = self.load(Webhook, cmd.webhook_id, WebhookNotFound)
        self.owned_business(cmd.actor, webhook.business_id)
        webhook.require_live()
        return webhook

    @handles(CreateWebhook)
    @retry_on_conflict
    def create_webhook(self, cmd: CreateWebhook) -> Done:
        self.owned_business(cmd.actor, cmd.business_id)
        url = self.webhook_urls.check(cmd.url)
        events = check_patterns(list(cmd.events))
        secret_id, secret = self.webhook_secrets.issue()
        webhook = Webhook(
            id=cmd.target(),
            business_id=cmd.business_id,
            url=url,
            events=events,
            description=cmd.description,
            secret_id=secret_id,
        )
        return self.commit(webhook, answer={**webhook_summary(webhook), "secret": secret})

    @handles(ChangeWebhook)
    @retry_on_conflict
    def change_webhook(self, cmd: ChangeWebhook) -> Done:
        webhook = self.owned_webhook(cmd)
        url = webhook.url if cmd.url is None else self.webhook_urls.check(cmd.url)
        events = webhook.events if cmd.events is None else check_patterns(list(cmd.events))
        enabled = webhook.enabled if cmd.enabled is None else cmd.enabled
        webhook.change(url, events, enabled)
        return self.commit(webhook, answer=webhook_summary(webhook))

    @handles(RotateWebhookSecret)
    @retry_on_conflict
    def rotate_webhook_secret(self, cmd: RotateWebhookSecret) -> Done:
        webhook = self.owned_webhook(cmd)
        secret_id, secret = self.webhook_secrets.issue()
        until = self.clock() + ROTATION_GRACE
        webhook.rotate_secret(secret_id, webhook.secret_id, until)
        answer = {**webhook_summary(webhook), "secret": secret, "previous_valid_until": until}
        return self.commit(webhook, answer=answer)

    @handles(ReplayWebhook)
    @retry_on_conflict
    def replay_webhook(self, cmd: ReplayWebhook) -> Done:
        webhook = self.owned_webhook(cmd)
        webhook.request_replay(cmd.after_position)
        return self.commit(webhook, answer=webhook_summary(webhook))

    @handles(DeleteWebhook)
    @retry_on_conflict
    def delete_webhook(self, cmd: DeleteWebhook) -> Done:
        webhook = self.owned_webhook(cmd)
        webhook.delete()
        return self.commit(webhook, answer={"deleted": True})

    @handles(DisableWebhook)
    @retry_on_conflict
    def disable_webhook(self, cmd: DisableWebhook) -> Done:
        require_role(cmd.actor, frozenset({Role.SYSTEM}))
        webhook = self.load(Webhook, cmd.webhook_id, WebhookNotFound)
        if webhook.enabled:
            webhook.disable(cmd.reason, cmd.event_id)
        return self.commit(webhook, answer=webhook_summary(webhook))
