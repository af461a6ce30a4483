"""The command that sets a business's notification settings (who is told, reminders, SMS)."""

from __future__ import annotations

from dataclasses import dataclass

from commands.base import Handlers, handles, retry_on_conflict
from commands.messages import BusinessCommand, Done
from domain.notify import NotificationSettings


@dataclass(frozen=True)
class SetNotifications(BusinessCommand):
    settings: NotificationSettings


class NotificationHandlers(Handlers):
    @handles(SetNotifications)
    @retry_on_conflict
    def set_notifications(self, cmd: SetNotifications) -> Done:
        business = self.owned_business(cmd.actor, cmd.business_id)
        business.set_notifications(cmd.settings)
        return self.commit(business)
