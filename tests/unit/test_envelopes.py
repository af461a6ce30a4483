"""Every event type becomes a CloudEvents 1.0 envelope that the official SDK reads."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from cloudevents.core.formats.json import JSONFormat

from commands.app import SlotWise
from commands.messages import (
    AddClosure,
    AddResource,
    AddTimeOff,
    CancelBooking,
    ChangeProfile,
    ChangeResource,
    CheckInBooking,
    CompleteBooking,
    ConfirmBooking,
    CreateService,
    DeactivateResource,
    DeactivateService,
    MarkNoShow,
    PlaceSeries,
    ReactivateResource,
    ReactivateService,
    RegisterBusiness,
    RemoveClosure,
    RemoveTimeOff,
    RescheduleBooking,
    SetHours,
    SetPolicy,
    UpdateService,
)
from commands.notifications import SetNotifications
from commands.payment_messages import (
    AttachPaymentIntent,
    ConfigurePayments,
    ExpireHold,
    NotePaymentDelay,
    RecordPaymentCanceled,
    RecordPaymentFailed,
    RecordPaymentSucceeded,
    RecordRefund,
    RecordStripeEvent,
)
from commands.waitlist_messages import (
    AcceptOffer,
    DropEntry,
    ExpireOffer,
    JoinWaitlist,
    LeaveWaitlist,
    OfferFreedSeats,
)
from domain.actor import Actor, Role, system_actor
from domain.allocation import DayAllocation
from domain.base import Aggregate
from domain.booking import Booking
from domain.business import Business, ResourceIndex, SlugIndex
from domain.envelope import Envelope, event_type, snake
from domain.notify import NotificationSettings
from domain.payment import PaymentSettings
from domain.resource_profile import ResourceProfile
from domain.series import Series
from domain.service import Service, ServiceTerms
from domain.stripe_event import StripeEvent, StripeNotice
from domain.values import BookingPolicy, Money
from domain.waitlist import WaitlistEntry
from infra.envelopes import envelope_from_record, envelope_to_json

from .builders import ALICE, BOB, OWNER, Clock, book, every_day, new_york, open_salon

EXTENSIONS = {
    "position": int,
    "aggregatetype": str,
    "aggregateversion": int,
    "schemaversion": int,
    "actorid": str,
    "actorrole": str,
    "correlationid": str,
    "causationid": str,
}
SAGA = system_actor("payment-saga")
WAITLIST = system_actor("waitlist")
ISO_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?[+-]\d\d:\d\d$")


def journey(app: SlotWise, clock: Clock) -> None:
    """Commands that record every event type SlotWise has."""
    business_id, service_id = open_salon(app, OWNER)
    app.handle(AddClosure(OWNER, business_id, new_york(5, 9), new_york(5, 12), "training"))
    closure = AddClosure(OWNER, business_id, new_york(12, 9), new_york(12, 12), "mistake")
    app.handle(closure)
    app.handle(RemoveClosure(OWNER, business_id, closure.closure_id()))
    app.handle(ChangeProfile(OWNER, business_id, name="Salon Nord", capacity=2))
    app.handle(ChangeProfile(OWNER, business_id, address="Hafenstraße 12\n20359 Hamburg"))
    app.handle(UpdateService(OWNER, service_id, {"name": "Cut & wash"}))
    app.handle(SetPolicy(OWNER, business_id, BookingPolicy(requires_confirmation=True)))
    first = book(app, ALICE, service_id, new_york(2, 9))
    app.handle(RescheduleBooking(ALICE, first, new_york(2, 11)))
    app.handle(ConfirmBooking(OWNER, first))
    app.handle(CheckInBooking(OWNER, first))
    app.handle(CompleteBooking(OWNER, first))
    second = book(app, BOB, service_id, new_york(3, 9))
    app.handle(ConfirmBooking(OWNER, second))
    clock.advance(timedelta(days=3))
    app.handle(MarkNoShow(OWNER, second))
    third = book(app, BOB, service_id, new_york(8, 9))
    app.handle(CancelBooking(BOB, third, "moved"))
    app.handle(DeactivateService(OWNER, service_id))
    app.handle(ReactivateService(OWNER, service_id))
    payment_journey(app, clock)
    resource_journey(app)
    waitlist_journey(app, clock)


def waitlist_journey(app: SlotWise, clock: Clock) -> None:
    """A line at a full start: offers accepted, declined and run out; leaving; dropping."""
    business_id, service_id = open_salon(app, OWNER, slug="line")
    wait = [Actor(name, Role.CUSTOMER) for name in ("w1", "w2", "w3", "w4", "w5")]
    taken = book(app, ALICE, service_id, new_york(24, 10))
    first, second, third, fourth = (
        app.handle(JoinWaitlist(who, service_id, new_york(24, 10))).id for who in wait[:4]
    )
    app.handle(LeaveWaitlist(wait[3], fourth))
    app.handle(CancelBooking(ALICE, taken))
    offer = OfferFreedSeats(WAITLIST, business_id, date(2027, 3, 24))
    app.handle(offer)
    accepted = app.handle(AcceptOffer(wait[0], first)).id
    app.handle(CancelBooking(wait[0], accepted))
    app.handle(OfferFreedSeats(WAITLIST, business_id, date(2027, 3, 24)))
    app.handle(LeaveWaitlist(wait[1], second))
    app.handle(OfferFreedSeats(WAITLIST, business_id, date(2027, 3, 24)))
    book(app, BOB, service_id, new_york(25, 10))
    late = app.handle(JoinWaitlist(wait[4], service_id, new_york(25, 10))).id
    clock.now = new_york(25, 10)
    app.handle(ExpireOffer(WAITLIST, third))
    app.handle(DropEntry(WAITLIST, late))


def resource_journey(app: SlotWise) -> None:
    """Resources, their time off and a series."""
    business_id = app.handle(RegisterBusiness(OWNER, "Cuts", "cuts", "America/New_York")).id
    app.handle(SetHours(OWNER, business_id, every_day("09:00", "17:00")))
    joe = app.handle(AddResource(OWNER, business_id, ResourceProfile("Joe", "staff", "barber"))).id
    app.handle(ChangeResource(OWNER, joe, {"name": "Joe B."}))
    app.handle(DeactivateResource(OWNER, joe))
    app.handle(ReactivateResource(OWNER, joe))
    off = AddTimeOff(OWNER, joe, new_york(16, 0), new_york(17, 0), "course")
    app.handle(off)
    app.handle(RemoveTimeOff(OWNER, joe, off.time_off_id()))
    terms = ServiceTerms("Fade", 60, Money.of("20", "USD"), requires={"category": "barber"})
    service_id = app.handle(CreateService(OWNER, business_id, terms)).id
    app.handle(PlaceSeries(ALICE, service_id, new_york(22, 9), every="P1W", count=2))


def payment_journey(app: SlotWise, clock: Clock) -> None:
    """Paid bookings: every payment event, and a webhook's record."""
    business_id, service_id = open_salon(app, OWNER, slug="paid")
    app.handle(ConfigurePayments(OWNER, business_id, PaymentSettings(enabled=True)))
    settings = NotificationSettings("desk@example.com", ("P1D",))
    app.handle(SetNotifications(OWNER, business_id, settings))
    paid = book(app, ALICE, service_id, new_york(9, 9))
    app.handle(AttachPaymentIntent(SAGA, paid, "pi_paid"))
    app.handle(RecordPaymentSucceeded(SAGA, paid, "pi_paid", Decimal("30.00"), "USD"))
    app.handle(CancelBooking(ALICE, paid, "plans changed"))  # in time: a refund is owed
    app.handle(RecordRefund(SAGA, paid, "pi_paid", "re_1", Decimal("30.00"), "USD", "in time"))
    waiting = book(app, BOB, service_id, new_york(9, 11))
    app.handle(NotePaymentDelay(SAGA, waiting, "Stripe is down"))
    app.handle(RecordPaymentFailed(SAGA, waiting, "pi_failed", "card_declined"))
    abandoned = book(app, BOB, service_id, new_york(9, 13))
    app.handle(RecordPaymentCanceled(SAGA, abandoned, "pi_canceled"))
    late = book(app, ALICE, service_id, new_york(10, 9))
    clock.advance(timedelta(minutes=20))
    app.handle(ExpireHold(SAGA, late))
    notice = StripeNotice(
        "evt_1", "payment_intent.succeeded", clock(), False, "pi_paid", str(paid),
        "succeeded", 3000, "USD", "", "",
    )  # fmt: skip
    app.handle(RecordStripeEvent(SAGA, notice))


def envelopes(app: SlotWise) -> list[Envelope]:
    records = app.recorder.select_notifications(start=1, limit=10_000)
    return [envelope_from_record(r, app.mapper) for r in records]


# Every event type SlotWise records (docs/events.md documents each one's data).
EVENT_TYPES = {
    "slotwise.business.registered",
    "slotwise.business.hours_set",
    "slotwise.business.profile_changed",
    "slotwise.business.address_set",
    "slotwise.business.closure_added",
    "slotwise.business.closure_removed",
    "slotwise.business.policy_set",
    "slotwise.slug_index.claimed",
    "slotwise.service.created",
    "slotwise.service.updated",
    "slotwise.service.deactivated",
    "slotwise.service.reactivated",
    "slotwise.booking.placed",
    "slotwise.booking.rescheduled",
    "slotwise.booking.cancelled",
    "slotwise.booking.confirmed",
    "slotwise.booking.checked_in",
    "slotwise.booking.completed",
    "slotwise.booking.marked_no_show",
    "slotwise.business.payments_configured",
    "slotwise.business.notifications_set",
    "slotwise.booking.payment_requested",
    "slotwise.booking.payment_intent_created",
    "slotwise.booking.payment_intent_delayed",
    "slotwise.booking.payment_succeeded",
    "slotwise.booking.payment_failed",
    "slotwise.booking.payment_canceled",
    "slotwise.booking.expired",
    "slotwise.booking.refund_requested",
    "slotwise.booking.refunded",
    "slotwise.stripe_event.received",
    "slotwise.day_allocation.opened",
    "slotwise.day_allocation.held",
    "slotwise.day_allocation.released",
    "slotwise.day_allocation.time_off_marked",
    "slotwise.business.resource_added",
    "slotwise.business.resource_changed",
    "slotwise.business.resource_deactivated",
    "slotwise.business.resource_reactivated",
    "slotwise.business.resource_time_off_added",
    "slotwise.business.resource_time_off_removed",
    "slotwise.resource_index.indexed",
    "slotwise.series.placed",
    "slotwise.day_allocation.queued",
    "slotwise.day_allocation.offer_held",
    "slotwise.day_allocation.unqueued",
    "slotwise.waitlist_entry.joined",
    "slotwise.waitlist_entry.offered",
    "slotwise.waitlist_entry.accepted",
    "slotwise.waitlist_entry.declined",
    "slotwise.waitlist_entry.left",
    "slotwise.waitlist_entry.offer_expired",
    "slotwise.waitlist_entry.dropped",
}


def defined_event_names() -> set[str]:
    """Names of the event classes the aggregates define, bar the library's base classes."""
    found = set()
    aggregates = (
        Business,
        SlugIndex,
        ResourceIndex,
        Service,
        Booking,
        DayAllocation,
        StripeEvent,
        Series,
        WaitlistEntry,
    )
    for aggregate in aggregates:
        for value in vars(aggregate).values():
            if isinstance(value, type) and issubclass(value, Aggregate.Event):
                found.add(event_type(snake(aggregate.__name__), value.__name__))
    return found


def test_the_list_of_event_types_is_complete() -> None:
    bases = {t for t in defined_event_names() if t.endswith((".event", ".created"))}
    assert defined_event_names() - bases == EVENT_TYPES - {"slotwise.service.created"}


def test_every_envelope_is_a_cloudevent_the_sdk_reads(app: SlotWise, clock: Clock) -> None:
    journey(app, clock)
    seen_types = set()
    for envelope in envelopes(app):
        event = JSONFormat().read(None, envelope_to_json(envelope))
        assert event.get_specversion() == "1.0"
        assert event.get_id() == envelope.id
        assert event.get_source() == "/slotwise"
        assert re.fullmatch(r"slotwise\.[a-z_]+\.[a-z_]+", event.get_type())
        assert UUID(event.get_subject() or "") == envelope.aggregate_id
        assert event.get_time().utcoffset() is not None  # type: ignore[union-attr]
        assert event.get_datacontenttype() == "application/json"
        for name, kind in EXTENSIONS.items():
            assert isinstance(event.get_extension(name), kind), name
        assert event.get_extension("aggregatetype") == envelope.type.split(".")[1]
        data = event.get_data()
        assert isinstance(data, dict)
        json.dumps(data)  # JSON-safe: nothing the SDK had to encode
        seen_types.add(event.get_type())
    assert seen_types == EVENT_TYPES


def test_envelope_data_carries_decimals_as_text_and_instants_with_an_offset(
    app: SlotWise, clock: Clock
) -> None:
    journey(app, clock)
    placed = next(e for e in envelopes(app) if e.type == "slotwise.booking.placed")
    assert placed.data["price_amount"] == "30.00"
    assert ISO_INSTANT.match(placed.data["start"])
    assert placed.data["status"] in ("pending", "confirmed")
    assert "originator_id" not in placed.data and "actor_id" not in placed.data
    assert placed.schemaversion == 4  # v3: personal data sealed; v4: resources and series


def test_positions_follow_the_log_and_versions_the_aggregate(app: SlotWise, clock: Clock) -> None:
    journey(app, clock)
    all_envelopes = envelopes(app)
    assert [e.position for e in all_envelopes] == list(range(1, len(all_envelopes) + 1))
    by_aggregate: dict[str, list[int]] = {}
    for e in all_envelopes:
        by_aggregate.setdefault(e.subject, []).append(e.aggregateversion)
    assert all(v == list(range(1, len(v) + 1)) for v in by_aggregate.values())


def test_an_envelope_survives_the_wire_unchanged(app: SlotWise, clock: Clock) -> None:
    journey(app, clock)
    for envelope in envelopes(app):
        raw: dict[str, Any] = json.loads(envelope_to_json(envelope))
        assert Envelope.from_dict(raw) == envelope
