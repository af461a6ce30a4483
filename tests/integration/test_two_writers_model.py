"""Two write processes on one PostgreSQL event store agree with a single-process oracle.

A Hypothesis state machine sends random place / cancel / reschedule / confirm /
expire / closure / hours commands, each through one of two write "processes"
chosen at random, and after every step checks (a) that what the write side
accepted or refused (by error class) is what the oracle in booking_oracle.py
says, and (b) that the read side, caught up on the same store and read through
the read API, offers exactly the oracle's slots; a placement also checks that a
slot the read side offers is accepted and one it does not offer is refused.

The two processes of the model test are two containers built by `bootstrap` in
this process, each with its own aggregate cache as production sizes it (the
real write-API processes take seconds to start and tens of milliseconds per
request, too slow for hundreds of steps in well under a minute); one short
scenario (the one issue 13 reports) runs through two real uvicorn write-API
processes over HTTP. Expiry is the `ExpireHold` command the payment timer sends,
after the test clock passes the hold; no Stripe call is made (the key is unused).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import httpx
import pytest
from eventsourcing.application import AggregateNotFoundError
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from commands.app import SlotWise
from commands.messages import (
    AddClosure,
    CancelBooking,
    Command,
    ConfirmBooking,
    CreateService,
    PlaceBooking,
    RegisterBusiness,
    RescheduleBooking,
    SetHours,
    SetPolicy,
)
from commands.payment_messages import ConfigurePayments, ExpireHold
from domain.actor import Actor, Role, system_actor
from domain.allocation import DayAllocation
from domain.booking import BookingStatus as S
from domain.errors import DomainError
from domain.payment import PaymentSettings
from domain.service import ServiceTerms
from domain.values import BookingPolicy, Money
from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from read_api.app import create_app as create_read_app
from tests.conftest import JWT_SECRET, SMALL_POOLS, FrozenClock
from tests.integration.booking_oracle import (
    DAYS,
    HOLDING,
    OK,
    SLOTS,
    WINDOWS,
    Oracle,
    instant,
    slot_of,
    weekly,
)
from tests.integration.test_concurrent_booking import (
    SECRET,
    WEEK,
    bearer,
    created,
    start_server,
    stop_server,
    wait_healthy,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(180)]

START = datetime.fromisoformat("2027-03-01T12:00:00+00:00")
OWNER = Actor("model-owner", Role.OWNER)
TIMER = system_actor("payments")
WRITERS = st.sampled_from(["W1", "W2"])
FIRST, LAST = min(DAYS.values()), max(DAYS.values())
MODEL = settings(
    max_examples=20,
    stateful_step_count=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    # Each step costs a PostgreSQL round trip or five (the read side's catch-up): shrinking
    # takes minutes. A failure prints its whole story instead (at most 12 steps).
    phases=[Phase.explicit, Phase.generate],
)


@dataclass
class World:
    """Two write processes and a read side on one event store, sharing one test clock."""

    clock: FrozenClock
    writers: dict[str, Container]
    reader: Container
    read: TestClient
    seen: dict[str, int] | None = None  # the last read, while no command took effect since

    def send(self, writer: str, command: Command) -> str:
        try:
            self.writers[writer].app.handle(command)
        except DomainError as error:
            return type(error).__name__
        self.seen = None
        return OK

    def held(self, business_id: UUID) -> set[UUID]:
        return allocations_held(self.reader.app, business_id)

    def offered(self, service_id: UUID) -> dict[str, int]:
        """What the read API offers, once the projections reflect every event so far."""
        if self.seen is not None:  # a refusal records nothing: catching up again changes nothing
            return self.seen
        self.reader.catch_up()
        answer = self.read.get(
            f"/v1/services/{service_id}/availability", params={"from": FIRST, "to": LAST}
        )
        assert answer.status_code == 200, answer.text
        slots = answer.json()["slots"]
        found = {slot_of(datetime.fromisoformat(s["start"])): s["seats_left"] for s in slots}
        self.seen = {slot: left for slot, left in found.items() if left > 0}
        return self.seen


@contextmanager
def two_writers(settings_: Settings) -> Iterator[World]:
    """The read side first (it creates the tables), then two write processes."""
    clock = FrozenClock(START)
    reader = bootstrap(settings_, clock=clock)
    writers = {name: bootstrap(settings_, clock=clock) for name in ("W1", "W2")}
    for writer in writers.values():
        if writer.app.aggregate_cache is not None:
            # Every step comes within the max age of the last (a busy second in production):
            # the same sequence then meets the same cached copies on every run and shrink.
            writer.app.aggregate_cache.clock = lambda: 0.0
    try:
        with TestClient(create_read_app(reader)) as read:
            yield World(clock, writers, reader, read)
    finally:
        for container in (*writers.values(), reader):
            container.close()


class TwoWriters(RuleBasedStateMachine):
    """One business, two services (free: pending until confirmed; paid: a payment hold)."""

    bookings = Bundle("bookings")

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        self.steps: list[str] = []
        self.ids: dict[str, UUID] = {}
        self.oracle = Oracle(capacity=1)

    def fail(self, problem: str) -> None:
        story = "\n".join(f"  {n}. {step}" for n, step in enumerate(self.steps, 1))
        raise AssertionError(f"{problem}\nafter these steps:\n{story}")

    def check(self, step: str, expected: str, got: str) -> None:
        self.steps.append(f"{step} -> {got}")
        if got != expected:
            self.fail(f"{step}: the write side answered {got}, the oracle {expected}")

    @initialize(capacity=st.sampled_from([1, 2]))
    def open_business(self, capacity: int) -> None:
        self.world.clock.now = START
        self.world.seen = None
        self.oracle = Oracle(capacity)
        app = self.world.writers["W1"].app
        slug = f"model-{uuid.uuid4().hex[:12]}"
        self.business = app.handle(RegisterBusiness(OWNER, "Model", slug, "UTC", capacity)).id
        app.handle(SetHours(OWNER, self.business, weekly(self.oracle.windows)))
        app.handle(SetPolicy(OWNER, self.business, BookingPolicy(requires_confirmation=True)))
        hold = PaymentSettings(enabled=True, hold_minutes=1)
        app.handle(ConfigurePayments(OWNER, self.business, hold))
        self.services = {
            paid: app.handle(CreateService(OWNER, self.business, terms)).id
            for paid, terms in (
                (False, ServiceTerms("Consultation", 60, Money.of("0", "USD"))),
                (True, ServiceTerms("Massage", 60, Money.of("30", "USD"))),
            )
        }
        self.steps.append(f"W1 opens a business: capacity {capacity}, tue and wed 09:00-12:00")

    @rule(target=bookings, writer=WRITERS, slot=st.sampled_from(SLOTS), paid=st.booleans())
    def place(self, writer: str, slot: str, paid: bool) -> Any:
        offered = self.world.offered(self.services[False])
        customer = Actor(f"customer-{len(self.steps)}", Role.CUSTOMER)
        command = PlaceBooking(customer, self.services[paid], instant(slot))
        label = f"b{len(self.ids) + 1}"
        expected = self.oracle.place(command.target(), slot, paid)
        got = self.world.send(writer, command)
        step = f"{writer} places {label} ({'paid' if paid else 'free'}) at {slot}"
        if (got == OK) != (slot in offered):
            self.steps.append(f"{step} -> {got}")
            shown = "offers" if slot in offered else "does not offer"
            self.fail(f"{step}: the read side {shown} {slot}, yet {writer} answered {got}")
        self.check(step, expected, got)
        if got != OK:
            return multiple()
        self.ids[label] = command.target()
        return label

    @rule(writer=WRITERS, booking=bookings)
    def cancel(self, writer: str, booking: str) -> None:
        expected = self.oracle.end(self.ids[booking], HOLDING, S.CANCELLED)
        got = self.world.send(writer, CancelBooking(OWNER, self.ids[booking], "model"))
        self.check(f"{writer} cancels {booking}", expected, got)

    @rule(writer=WRITERS, booking=bookings, slot=st.sampled_from(SLOTS))
    def reschedule(self, writer: str, booking: str, slot: str) -> None:
        expected = self.oracle.move(self.ids[booking], slot)
        got = self.world.send(writer, RescheduleBooking(OWNER, self.ids[booking], instant(slot)))
        self.check(f"{writer} reschedules {booking} to {slot}", expected, got)

    @rule(writer=WRITERS, booking=bookings)
    def confirm(self, writer: str, booking: str) -> None:
        expected = self.oracle.end(self.ids[booking], frozenset({S.PENDING}), S.CONFIRMED)
        got = self.world.send(writer, ConfirmBooking(OWNER, self.ids[booking]))
        self.check(f"{writer} confirms {booking}", expected, got)

    @rule(writer=WRITERS, booking=bookings)
    def expire(self, writer: str, booking: str) -> None:
        self.world.clock.now += timedelta(minutes=2)  # every hold (1 minute) has run out
        expected = self.oracle.end(self.ids[booking], frozenset({S.PENDING_PAYMENT}), S.EXPIRED)
        got = self.world.send(writer, ExpireHold(TIMER, self.ids[booking]))
        self.check(f"{writer} expires the hold of {booking}", expected, got)

    @rule(
        writer=WRITERS,
        slot=st.sampled_from(SLOTS),
        hours=st.sampled_from([1, 2]),
        keep=st.booleans(),
    )
    def close(self, writer: str, slot: str, hours: int, keep: bool) -> None:
        start = instant(slot)
        end = start + timedelta(hours=hours)
        closures = [*self.oracle.closures, (start, end)]
        expected = self.oracle.change(self.oracle.windows, closures, keep)
        command = AddClosure(OWNER, self.business, start, end, "model", keep_bookings=keep)
        got = self.world.send(writer, command)
        self.check(f"{writer} closes {hours} h from {slot} (keep bookings: {keep})", expected, got)

    @rule(
        writer=WRITERS,
        tue=st.sampled_from(WINDOWS),
        wed=st.sampled_from(WINDOWS),
        keep=st.booleans(),
    )
    def set_hours(
        self,
        writer: str,
        tue: tuple[int, int] | None,
        wed: tuple[int, int] | None,
        keep: bool,
    ) -> None:
        windows = {"tue": tue, "wed": wed}
        expected = self.oracle.change(windows, self.oracle.closures, keep)
        command = SetHours(OWNER, self.business, weekly(windows), keep_bookings=keep)
        got = self.world.send(writer, command)
        self.check(
            f"{writer} sets hours tue {tue} wed {wed} (keep bookings: {keep})", expected, got
        )

    @invariant()
    def the_store_holds_what_the_oracle_holds(self) -> None:
        """The store's day allocations (read fresh) hold exactly the bookings holding a slot."""
        if not self.steps:
            return
        held = self.world.held(self.business)
        expected = {b for b, s in self.oracle.status.items() if s in HOLDING}
        if held != expected:
            names = {v: k for k, v in self.ids.items()}
            extra = sorted(names.get(b, str(b)) for b in held - expected)
            missing = sorted(names.get(b, str(b)) for b in expected - held)
            self.fail(f"the event store holds slots for {extra} beyond the oracle, lacks {missing}")

    @invariant()
    def read_side_offers_what_the_oracle_offers(self) -> None:
        if not self.steps:
            return
        offered, expected = self.world.offered(self.services[False]), self.oracle.offered()
        if offered != expected:
            self.fail(f"the read side offers {offered}, the oracle {expected}")


def run_model(world: World) -> None:
    factory = cast(type[RuleBasedStateMachine], lambda: TwoWriters(world))  # a class or factory
    run_state_machine_as_test(factory, settings=MODEL)


def test_two_cached_writers_agree_with_the_oracle(postgres_dsn: str, postgres_schema: str) -> None:
    url = f"{postgres_dsn}?schema={postgres_schema}&{SMALL_POOLS}"
    with two_writers(model_settings(url)) as world:
        run_model(world)


def allocations_held(app: SlotWise, business_id: UUID) -> set[UUID]:
    """Bookings the business's day allocations hold, read from the store (no cache)."""
    held: set[UUID] = set()
    for day in DAYS.values():
        try:
            allocation: DayAllocation = app.repository.get(
                DayAllocation.create_id(business_id, day)
            )
        except AggregateNotFoundError:
            continue
        held |= set(allocation.held)
    return held


def model_settings(url: str, **overrides: Any) -> Settings:
    """Production's settings (aggregate cache included; SLOTWISE_AGGREGATE_CACHE_SIZE=0 turns
    it off, the oracle's behaviour) on this test's schema."""
    return Settings(
        event_store=url,
        read_db=url,
        jwt_secret=JWT_SECRET,
        stripe_api_key="sk_test_never_called",  # a process that takes payment; never called
        **overrides,
    )


@pytest.mark.subprocess
def test_a_slot_freed_through_another_write_process_is_bookable_again(
    postgres_dsn: str, postgres_schema: str, tmp_path: Path
) -> None:
    """Issue 13's report through two real write-API processes: Ann's cancelled 09:00 is free."""
    url = f"{postgres_dsn}?schema={postgres_schema}&{SMALL_POOLS}"
    reader = bootstrap(Settings(event_store=url, read_db=url, jwt_secret=SECRET))
    servers = []
    try:
        for _ in range(2):  # one after the other, as test_concurrent_booking explains
            servers.append(start_server(url, tmp_path))
            wait_healthy(servers[-1])
        w1, w2 = (httpx.Client(base_url=s.url, timeout=30.0) for s in servers)
        service_id = open_http_business(w1)
        day = datetime.now(UTC).date() + timedelta(days=7)
        at = {h: datetime(day.year, day.month, day.day, h, tzinfo=UTC) for h in (9, 10)}
        created(book_over_http(w2, "bob", service_id, at[10]))  # W2 now caches that day
        ann = created(book_over_http(w1, "ann", service_id, at[9]))
        cancelled = w2.post(
            f"/v1/bookings/{ann}/cancel",
            json={"reason": "plans"},
            headers=bearer("ann", Role.CUSTOMER),
        )
        assert cancelled.json()["status"] == "cancelled", cancelled.text
        reader.catch_up()
        with TestClient(create_read_app(reader)) as read:
            answer = read.get(
                f"/v1/services/{service_id}/availability", params={"from": day, "to": day}
            )
        starts = {datetime.fromisoformat(s["start"]) for s in answer.json()["slots"]}
        assert at[9] in starts  # the read side offers 09:00 again...

        rebooked = book_over_http(w1, "carol", service_id, at[9])

        assert rebooked.status_code == 201, rebooked.text  # ...and the write side takes it
    finally:
        for server in servers:
            stop_server(server)
        reader.close()


def open_http_business(client: httpx.Client) -> str:
    """A UTC business open 09:00-12:00 every day with one 60-minute service, over HTTP."""
    owner = bearer(f"owner-{uuid.uuid4().hex[:8]}", Role.OWNER)
    slug = f"model-{uuid.uuid4().hex[:12]}"
    body = {"name": "Model", "slug": slug, "timezone": "UTC", "capacity": 1}
    business_id = created(client.post("/v1/businesses", json=body, headers=owner))
    weekly = [{"day": day, "start": "09:00", "end": "12:00"} for day in WEEK]
    hours = client.put(
        f"/v1/businesses/{business_id}/hours", json={"weekly": weekly}, headers=owner
    )
    created(hours)
    terms = {
        "name": "Consultation",
        "duration_minutes": 60,
        "price": {"amount": "40.00", "currency": "EUR"},
    }
    return created(client.post(f"/v1/businesses/{business_id}/services", json=terms, headers=owner))


def book_over_http(
    client: httpx.Client, customer: str, service_id: str, start: datetime
) -> httpx.Response:
    body = {"service_id": service_id, "start": start.isoformat()}
    return client.post("/v1/bookings", json=body, headers=bearer(customer, Role.CUSTOMER))
