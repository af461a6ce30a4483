"""Stats per resource over HTTP: each barber's bookings and utilization of their own hours."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import BOB, MONDAY, OWNER, TUESDAY, WEEKDAYS, Api, Salon, local


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _barber(api: Api, salon: Salon, name: str, weekly: Any = None) -> str:
    body = {"name": name, "kind": "staff", "category": "barber"}
    if weekly is not None:
        body["weekly"] = weekly
    path = f"/v1/businesses/{salon.business_id}/resources"
    return str(api.command("POST", path, OWNER, "owner", body, 201).json()["id"])


def test_each_barber_gets_bookings_and_utilization_of_their_own_open_minutes(
    api: Api, salon: Salon
) -> None:
    afternoons = [{"day": d, "start": "12:00", "end": "20:00"} for d in WEEKDAYS]
    joe = _barber(api, salon, "Joe", afternoons)  # 12-17 inside the salon's 9-17: 300 a day
    kim = _barber(api, salon, "Kim")  # the salon's hours: 480 a day
    fade = {
        "name": "Fade",
        "duration_minutes": 60,
        "price": {"amount": "25.00", "currency": "EUR"},
        "requires": {"category": "barber"},
    }
    service = api.command(
        "POST", f"/v1/businesses/{salon.business_id}/services", OWNER, "owner", fade, 201
    ).json()["id"]
    closure = {"start": local(MONDAY, 16).isoformat(), "end": local(MONDAY, 17).isoformat()}
    api.command(
        "POST", f"/v1/businesses/{salon.business_id}/closures", OWNER, "owner", closure, 201
    )
    off = {"start": local(TUESDAY, 9).isoformat(), "end": local(TUESDAY, 12).isoformat()}
    api.command("POST", f"/v1/resources/{kim}/time-off", OWNER, "owner", off, 201)

    def book(hour: int, day: Any, barber: str, customer: str = "ann") -> str:
        body = {"service_id": service, "start": local(day, hour).isoformat(), "resource_id": barber}
        return str(
            api.command("POST", "/v1/bookings", customer, "customer", body, 201).json()["id"]
        )

    book(13, MONDAY, joe)
    book(10, MONDAY, kim)
    book(13, TUESDAY, kim, BOB)
    dropped = book(14, TUESDAY, kim, BOB)
    api.act(dropped, "cancel", BOB, "customer", {"reason": "changed mind"})
    api.settle()

    path = f"/v1/businesses/{salon.business_id}/stats"
    span = {"from": MONDAY.isoformat(), "to": TUESDAY.isoformat()}
    week = api.query(path, OWNER, "owner", params={**span, "group": "week", "by": "resource"})
    body = week.json()
    assert body["by"] == "resource" and len(body["periods"]) == 1
    period = body["periods"][0]
    named = {r["name"]: r for r in period["resources"]}
    assert (list(named) == ["Joe", "Kim"] and "services" not in period) or not period["services"]
    # Joe: Mon 12-16 (the closure takes 16-17) + Tue 12-17 = 540; one hour booked
    assert (named["Joe"]["bookings"], named["Joe"]["booked_minutes"]) == (1, 60)
    assert named["Joe"]["open_minutes"] == 540 and named["Joe"]["utilization"] == 0.1111
    # Kim: Mon 9-16 + Tue 12-17 (time off 9-12) = 720; two hours kept, one cancelled
    kim_week = named["Kim"]
    assert (kim_week["bookings"], kim_week["cancellations"], kim_week["booked_minutes"]) == (
        3,
        1,
        120,
    )
    assert kim_week["open_minutes"] == 720 and kim_week["utilization"] == 0.1667
    assert kim_week["revenue"] == [{"amount": "50.00", "currency": "EUR"}]
    assert kim_week["category"] == "barber" and kim_week["resource_id"] == kim

    days = api.query(path, OWNER, "owner", params={**span, "by": "resource"}).json()["days"]
    monday, tuesday = ({r["name"]: r for r in d["resources"]} for d in days)
    assert (monday["Joe"]["open_minutes"], tuesday["Joe"]["open_minutes"]) == (240, 300)
    assert (monday["Kim"]["open_minutes"], tuesday["Kim"]["open_minutes"]) == (420, 300)
    assert (monday["Kim"]["bookings"], tuesday["Kim"]["bookings"]) == (1, 2)
    assert tuesday["Joe"]["bookings"] == 0 and tuesday["Joe"]["utilization"] == 0.0
