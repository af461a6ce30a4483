"""Every event records who caused it and why, through one mechanism for every aggregate."""

from __future__ import annotations

import contextvars
from typing import Any
from uuid import UUID, uuid4

import pytest

from commands.app import SlotWise
from commands.messages import (
    CancelBooking,
    CommandContext,
    ConfirmBooking,
    CreateService,
    RegisterBusiness,
    SetPolicy,
)
from domain.actor import Actor, Role, system_actor
from domain.business import Business
from domain.cause import UncausedEvent
from domain.envelope import event_id
from domain.service import ServiceTerms
from domain.values import BookingPolicy, Money

from .builders import ALICE, OWNER, book, new_york, open_salon

Events = list[Any]


def recorded(app: SlotWise) -> Events:
    notifications = app.recorder.select_notifications(start=1, limit=10_000)
    return [app.mapper.to_domain_event(n) for n in notifications]


def test_every_event_of_every_aggregate_names_its_actor_and_request(app: SlotWise) -> None:
    context = CommandContext.new(correlation_id="req-42")
    _, service_id = open_salon(app, OWNER)
    booking_id = book(app, ALICE, service_id, new_york(2, 9))
    app.handle(CancelBooking(ALICE, booking_id, "flu", context=context))

    events = recorded(app)
    kinds = {type(e).__qualname__.split(".")[0] for e in events}
    assert kinds == {"Business", "SlugIndex", "Service", "DayAllocation", "Booking"}
    assert all(e.actor_id and e.actor_role and e.correlation_id for e in events)
    cancelling = [e for e in events if e.correlation_id == "req-42"]
    assert {type(e).__qualname__ for e in cancelling} == {
        "Booking.Cancelled",
        "DayAllocation.Released",
    }
    assert {(e.actor_id, e.actor_role) for e in cancelling} == {("alice", "customer")}
    assert {e.causation_id for e in cancelling} == {str(context.command_id)}


def test_a_command_without_a_correlation_id_starts_its_own(app: SlotWise) -> None:
    business_id, _ = open_salon(app, OWNER)
    app.handle(SetPolicy(OWNER, business_id, BookingPolicy(min_notice_minutes=30)))
    last = recorded(app)[-1]
    assert type(last).__qualname__ == "Business.PolicySet"
    assert UUID(last.causation_id).hex == last.correlation_id


def test_a_process_acts_as_a_named_system_actor_caused_by_an_event(app: SlotWise) -> None:
    business_id, service_id = open_salon(app, OWNER)
    app.handle(SetPolicy(OWNER, business_id, BookingPolicy(requires_confirmation=True)))
    booking_id = book(app, ALICE, service_id, new_york(2, 9))
    trigger = event_id(booking_id, 1)
    saga = system_actor("payment-saga")
    context = CommandContext.replayable_as(uuid4(), "req-7", causation_id=trigger)

    app.handle(ConfirmBooking(saga, booking_id, context=context))

    confirmed = recorded(app)[-1]
    assert type(confirmed).__qualname__ == "Booking.Confirmed"
    assert (confirmed.actor_id, confirmed.actor_role) == ("payment-saga", Role.SYSTEM.value)
    assert confirmed.causation_id == trigger


def test_an_aggregate_changed_outside_any_command_is_refused() -> None:
    def register() -> Business:
        return Business.register("owner-1", "Salon", "salon", "UTC", 1)

    with pytest.raises(UncausedEvent):
        contextvars.Context().run(register)


def test_event_ids_are_stable_and_distinct() -> None:
    aggregate = uuid4()
    assert event_id(aggregate, 3) == event_id(aggregate, 3)
    assert len({event_id(aggregate, v) for v in range(1, 100)}) == 99
    assert event_id(aggregate, 1) != event_id(uuid4(), 1)


def test_what_a_command_creates_takes_its_id_from_the_command(app: SlotWise) -> None:
    owner = Actor("owner-9", Role.OWNER)
    register = RegisterBusiness(owner, "Salon", "derived", "UTC", 1)
    business = app.handle(register)
    create = CreateService(owner, business.id, ServiceTerms("Cut", 60, Money.of("30", "EUR")))
    service = app.handle(create)
    assert (business.id, service.id) == (register.target(), create.target())
    assert register.target() == register.context.new_id("business")


def test_the_same_keyed_command_again_answers_with_what_it_created(app: SlotWise) -> None:
    owner = Actor("owner-9", Role.OWNER)
    context = CommandContext.replayable_as(uuid4(), "req-1")
    first = app.handle(RegisterBusiness(owner, "Salon", "once", "UTC", 1, context=context))
    again = app.handle(RegisterBusiness(owner, "Salon", "once", "UTC", 1, context=context))
    assert again.id == first.id and again.version == first.version
    assert len(recorded(app)) == 2  # Registered and the slug's Claimed, once
