"""A batched rebuild gives every read model exactly the rows the live path gave, and a
bad event in the middle of a batch is parked while everything else lands."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from domain.booking import Booking, BookingStatus
from domain.business import Business, SlugIndex
from domain.cause import Cause, caused_by
from domain.envelope import Envelope
from domain.service import Service, ServiceTerms
from domain.values import WEEKDAYS, BookingPolicy, Money
from infra.bootstrap import Container
from infra.consumers.dead_letters import DeadLetters
from infra.follower import LOG_PARTITION, LOG_SOURCE, read_log
from infra.rebuild import rebuild
from projections.bookings import BookingsProjector
from projections.tables import availability_stamps, metadata

OWNER = "owner-1"
CAUSE = Cause(OWNER, "owner", "rebuild-test", "rebuild-test")
DAY = datetime(2027, 3, 8, 9, tzinfo=UTC)
EUR = Money.of(Decimal("30.00"), "EUR")


def open_business(n: int) -> tuple[Business, Service, list[Any]]:
    """A business with hours, closures (one removed), a policy, a changed profile; a service
    updated, deactivated and reactivated."""
    business = Business.register(OWNER, f"Salon {n}", f"salon-{n}", "Europe/Paris", 2)
    business.set_hours([{"day": d, "start": "08:00", "end": "20:00"} for d in WEEKDAYS])
    gone, kept = uuid.uuid4(), uuid.uuid4()
    business.add_closure(gone, DAY, DAY + timedelta(days=1), "holiday")
    business.add_closure(kept, DAY + timedelta(days=9), DAY + timedelta(days=10), "")
    business.remove_closure(gone)
    business.set_policy(BookingPolicy(cancellation_deadline_hours=24))
    business.change_profile(name=f"Salon {n} & Spa")
    service = Service.create(business.id, ServiceTerms("Cut", 45, EUR, buffer_after_minutes=15))
    service.update(ServiceTerms("Cut", 45, Money.of(Decimal("32.50"), "EUR")))
    service.deactivate()
    service.reactivate()
    return business, service, [SlugIndex(slug=f"salon-{n}", business_id=business.id)]


def place(business: Business, service: Service, k: int, status: BookingStatus) -> Booking:
    start = DAY + timedelta(days=k % 5, minutes=30 * (k % 16))
    end = start + timedelta(minutes=45)
    return Booking(
        id=uuid.uuid4(),
        business_id=business.id,
        service_id=service.id,
        customer_id=f"customer-{k % 3}",
        placed_by=OWNER,
        start=start,
        end=end,
        occupied_start=start,
        occupied_end=end + timedelta(minutes=15),
        timezone=business.timezone,
        service_name=service.name,
        price_amount=service.price_amount,
        currency=service.currency,
        personal_data=None,
        legacy_notes=f"note {k}",
        status=status,
        resources=[],
        series_id=None,
    )


def live_through(booking: Booking, k: int, amount: Decimal) -> None:
    """Each k takes the booking down another path of its lifecycle."""
    early, deadline = booking.start - timedelta(days=2), timedelta(hours=24)
    intent = f"pi_{booking.id.hex[:12]}"
    if booking.status is BookingStatus.PENDING_PAYMENT:
        booking.request_payment("stripe", booking.start - timedelta(days=1))
        booking.attach_payment_intent(intent)
        if k % 4 == 3:
            booking.expire(booking.start)  # the hold ran out unpaid
            return
        booking.record_payment_succeeded(OWNER, intent, amount, "EUR")
    elif booking.status is BookingStatus.PENDING:
        booking.confirm(OWNER)
    path = k % 6
    if path == 0:
        later = booking.start + timedelta(days=1, hours=15)  # another local day
        booking.reschedule(
            OWNER, later, later + timedelta(minutes=45), later, later + timedelta(hours=1),
            early, deadline, staff=True,
        )  # fmt: skip
    if path in (0, 1):
        booking.cancel(OWNER, None, early, deadline, staff=True)
        if booking.payment is not None and booking.payment.received:
            booking.record_refund(intent, f"re_{k}", amount, "EUR", "cancelled_in_time")
    elif path == 2:
        booking.check_in(OWNER)
        booking.complete(OWNER)
    elif path == 3:
        booking.mark_no_show(OWNER, booking.end)


def write_history(container: Container, businesses: int = 2, bookings: int = 24) -> None:
    statuses = [BookingStatus.CONFIRMED, BookingStatus.PENDING, BookingStatus.PENDING_PAYMENT]
    with caused_by(CAUSE):
        for n in range(businesses):
            business, service, extra = open_business(n)
            container.app.save(business, service, *extra)
            for k in range(bookings):
                booking = place(business, service, k, statuses[k % 3])
                live_through(booking, k, service.price_amount)
                container.app.save(booking)


def deliver_one_by_one(container: Container) -> None:
    """The live path: every event on its own, as the follower hands over a fresh write."""
    for delivery in read_log(container.app.recorder, container.app.mapper, 0, 100_000):
        container.runtime.deliver(LOG_SOURCE, LOG_PARTITION, [delivery])


def table_contents(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    """Every read model's rows; the read cache's stamps are random by design, so left out."""
    with container.read_db.reader.connect() as conn:
        return {
            t.name: sorted(tuple(map(repr, r)) for r in conn.execute(select(t)))
            for t in metadata.sorted_tables
            if t is not availability_stamps
        }


@pytest.mark.parametrize("batch_size", [2000, 7])
def test_a_batched_rebuild_gives_every_table_the_rows_the_live_path_built(
    container: Container, batch_size: int
) -> None:
    write_history(container)
    deliver_one_by_one(container)
    live = table_contents(container)
    for name in (
        "businesses",
        "services",
        "bookings",
        "booking_payments",
        "allocations",
        "business_daily_stats",
        "business_daily_revenue",
        "business_daily_payments",
        "stats_booking_facts",
        "stats_booking_payments",
    ):
        assert live[name], f"the history leaves {name} empty"
    statuses = {row[9] for row in live["bookings"]}
    assert {"'cancelled'", "'completed'", "'no_show'", "'expired'", "'confirmed'"} <= statuses

    rebuilt = rebuild(
        container.app.recorder, container.app.mapper, container.runtime, batch_size=batch_size
    )

    assert rebuilt == container.app.recorder.max_notification_id()
    assert table_contents(container) == live
    assert DeadLetters(container.runtime).count() == 0
    end = container.app.recorder.max_notification_id()
    reached = container.runtime.checkpoints(LOG_SOURCE, LOG_PARTITION).values()
    assert {c.offset for c in reached} == {end}


def test_a_poisoned_event_in_the_middle_of_a_rebuild_batch_is_parked_and_the_rest_lands(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_history(container, businesses=1)
    deliver_one_by_one(container)
    live = table_contents(container)
    cancellations = [
        d.envelope
        for d in read_log(container.app.recorder, container.app.mapper, 0, 100_000)
        if d.envelope.type == "slotwise.booking.cancelled"
    ]
    poisoned = cancellations[len(cancellations) // 2]
    cancelled = BookingsProjector.cancelled

    def poison(self: BookingsProjector, ws: Any, envelope: Envelope) -> None:
        if envelope.id == poisoned.id:
            raise ValueError("poisoned")
        cancelled(self, ws, envelope)

    monkeypatch.setattr(BookingsProjector, "cancelled", poison)
    bookings = container.runtime.consumer("bookings")
    monkeypatch.delitem(vars(bookings), "_cached_handlers")  # bound before the patch

    rebuild(container.app.recorder, container.app.mapper, container.runtime, batch_size=2000)

    letters = DeadLetters(container.runtime).entries()
    assert [(d.consumer, d.event_id, d.status) for d in letters[:1]] == [
        (
            "bookings",
            poisoned.id,
            "parked",
        )
    ]
    # Later events of the poisoned booking wait behind it; nobody else's do.
    assert {d.aggregate_id for d in letters} == {poisoned.subject}
    assert {d.status for d in letters[1:]} <= {"held"}
    rebuilt = table_contents(container)
    for name, rows in live.items():
        if name not in ("bookings", "booking_payments"):
            assert rebuilt[name] == rows, name
    others = [row for row in live["bookings"] if repr(poisoned.subject) != row[0]]
    assert [row for row in rebuilt["bookings"] if repr(poisoned.subject) != row[0]] == others
    stuck = [row for row in rebuilt["bookings"] if repr(poisoned.subject) == row[0]]
    assert len(stuck) == 1 and stuck[0][9] != "'cancelled'"
    end = container.app.recorder.max_notification_id()
    reached = container.runtime.checkpoints(LOG_SOURCE, LOG_PARTITION).values()
    assert {c.offset for c in reached} == {end}
