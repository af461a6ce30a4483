"""Recording what the provider says an intent has come to (after a cancel, or on reconcile)."""

from __future__ import annotations

from uuid import UUID

from commands.app import SlotWise
from commands.messages import Command, CommandContext
from commands.payment_messages import (
    RecordPaymentCanceled,
    RecordPaymentFailed,
    RecordPaymentSucceeded,
)
from commands.processes.payment.provider import Intent
from domain.actor import Actor
from domain.payable import from_minor


def command_for(
    actor: Actor, booking_id: UUID, intent: Intent, context: CommandContext
) -> Command | None:
    """The command that records the intent's final state, or None while it is still open."""
    if intent.status == "succeeded":
        amount = from_minor(intent.amount_received_minor, intent.currency)
        return RecordPaymentSucceeded(
            actor, booking_id, intent.id, amount, intent.currency, context=context
        )
    if intent.status == "canceled":
        return RecordPaymentCanceled(actor, booking_id, intent.id, context=context)
    if intent.status == "requires_payment_method" and intent.failure:
        return RecordPaymentFailed(actor, booking_id, intent.id, intent.failure, context=context)
    return None


def record(app: SlotWise, command: Command | None) -> str:
    if command is None:
        return "still open at the provider"
    done = app.handle(command)
    return f"{type(command).__name__} at version {done.version}"
