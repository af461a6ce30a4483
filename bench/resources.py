"""Booking rate of a three-resource service against a pooled one (one process, SQLite file
store, aggregate cache on), and the uncached cost of a week's availability for a business
with ten resources (the shared pure function over a busy week)."""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from commands.app import SlotWise
from commands.messages import AddResource, CreateService, PlaceBooking, RegisterBusiness, SetHours
from domain.actor import Actor, Role
from domain.allocation import DayAllocation
from domain.business import Business
from domain.cause import Cause, caused_by
from domain.resource_profile import ResourceProfile
from domain.resources import Requirement, holds_of, resource_slots
from domain.service import Service, ServiceTerms
from domain.slots import Occupancy, candidate_starts
from domain.values import Money

OWNER = Actor("owner", Role.OWNER)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def business(app: SlotWise, slug: str, capacity: int, resources: int, requires: bool) -> UUID:
    bid = app.handle(RegisterBusiness(OWNER, slug, slug, "Europe/Berlin", capacity)).id
    app.handle(SetHours(OWNER, bid, [{"day": d, "start": "00:00", "end": "24:00"} for d in DAYS]))
    for n in range(resources):
        app.handle(AddResource(OWNER, bid, ResourceProfile(f"R{n}", "staff", "chair")))
    terms = ServiceTerms(
        "Cut", 30, Money.of("10", "EUR"), requires={"category": "chair"} if requires else None
    )
    return app.handle(CreateService(OWNER, bid, terms)).id


def rate(app: SlotWise, service_id: UUID, n: int) -> float:
    first = datetime(2027, 3, 1, tzinfo=UTC)
    began = time.perf_counter()
    for i in range(n):
        start = first + timedelta(minutes=30 * (i // 3))
        app.handle(PlaceBooking(Actor(f"c{i}", Role.CUSTOMER), service_id, start))
    return n / (time.perf_counter() - began)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, caused_by(Cause("bench", "system", "b", "b")):
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": f"{tmp}/es.db"}
        app = SlotWise(env=env, clock=lambda: datetime(2027, 2, 1, tzinfo=UTC),
                       aggregate_cache_size=10_000)  # fmt: skip
        pooled = business(app, "pooled", 3, 0, False)
        three = business(app, "three", 1, 3, True)
        print(f"pooled (capacity 3): {rate(app, pooled, 600):.0f} bookings/s")
        print(f"three resources:     {rate(app, three, 600):.0f} bookings/s")
        ten = business(app, "ten", 1, 10, True)
        rate(app, ten, 1000)  # a busy week: 1000 bookings on ten chairs
        service = app.repository.get(ten)
        assert isinstance(service, Service)
        biz = app.repository.get(service.business_id)
        assert isinstance(biz, Business)
        calendar, shape = biz.calendar(), service.shape()
        starts = list(candidate_starts(calendar, shape, date(2027, 3, 1), date(2027, 3, 7)))
        held: list[Occupancy] = []
        for n in range(9):  # the UTC days the week's starts touch
            day = date(2027, 2, 28) + timedelta(days=n)
            found = app.load_or_none(DayAllocation, DayAllocation.create_id(biz.id, day))
            held.extend(found.held.values() if found else ())
        holds = holds_of(held)
        requirement = service.requirement()
        assert isinstance(requirement, Requirement)
        calendars = biz.resource_calendars()
        began = time.perf_counter()
        for _ in range(10):
            resource_slots(requirement, calendars, calendar.timezone, shape, starts, holds)
        took = (time.perf_counter() - began) / 10
        print(f"a week ({len(starts)} starts), 10 resources, uncached: {took * 1000:.1f} ms")


if __name__ == "__main__":
    main()
