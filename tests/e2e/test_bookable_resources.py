"""Bookable resources over HTTP: barbers, "any" and named bookings, time off, series, reads."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import (
    ANN,
    MONDAY,
    OWNER,
    TUESDAY,
    WEEKDAYS,
    Api,
    Salon,
    assert_names,
    assert_problem,
    local,
)

BOB = "bob"


def barbers(api: Api, salon: Salon) -> tuple[str, list[str]]:
    """Two barbers and a service that needs one; the service's id and the barbers' ids."""
    path = f"/v1/businesses/{salon.business_id}/resources"
    ids = [
        api.command(
            "POST", path, OWNER, "owner", {"name": n, "kind": "staff", "category": "barber"}, 201
        ).json()["id"]
        for n in ("Joe", "Kim")
    ]
    body = {
        "name": "Fade",
        "duration_minutes": 60,
        "price": {"amount": "25.00", "currency": "EUR"},
        "requires": {"category": "barber"},
    }
    service = api.command(
        "POST", f"/v1/businesses/{salon.business_id}/services", OWNER, "owner", body, 201
    ).json()
    return service["id"], ids


def booking(api: Api, body: dict[str, Any], customer: str = ANN, expect: int = 201) -> Any:
    return api.command("POST", "/v1/bookings", customer, "customer", body, expect).json()


def test_books_any_barber_then_a_named_one_and_shows_who(api: Api, salon: Salon) -> None:
    service_id, (joe, kim) = barbers(api, salon)
    start = local(MONDAY, 10).isoformat()
    params = {"from": MONDAY.isoformat(), "to": MONDAY.isoformat()}

    names = {joe: "Joe", kim: "Kim"}
    lower, higher = sorted(names)  # both free with no bookings: "any" takes the lower id
    first = booking(api, {"service_id": service_id, "start": start})
    second = booking(api, {"service_id": service_id, "start": start, "resource_id": higher}, BOB)
    assert [r["id"] for r in first["resources"]] == [lower]
    assert second["resources"] == [{"id": higher, "name": names[higher], "category": "barber"}]
    refused = api.command(
        "POST", "/v1/bookings", "carl", "customer", {"service_id": service_id, "start": start}
    )
    assert_problem(refused, 409, "slot-unavailable")

    api.settle()
    slots = api.query(f"/v1/services/{service_id}/availability", params=params).json()["slots"]
    by_start = {s["start"]: s for s in slots}
    assert local(MONDAY, 10).isoformat() not in by_start
    eleven = by_start[local(MONDAY, 11).isoformat()]
    assert eleven["seats_left"] == 2
    assert sorted(r["name"] for r in eleven["resources"]) == ["Joe", "Kim"]
    only_kim = api.query(
        f"/v1/services/{service_id}/availability", params={**params, "resource_id": kim}
    ).json()["slots"]
    assert only_kim and {r["id"] for s in only_kim for r in s["resources"]} == {kim}

    read = api.query(f"/v1/bookings/{second['id']}", BOB).json()
    assert read["resources"] == [{"id": higher, "name": names[higher], "category": "barber"}]
    day = api.query(
        f"/v1/businesses/{salon.business_id}/bookings",
        OWNER,
        "owner",
        params={"resource_id": higher},
    ).json()["items"]
    assert [b["id"] for b in day] == [second["id"]]


def test_time_off_lists_affected_bookings_and_shows_on_the_resource(api: Api, salon: Salon) -> None:
    service_id, (joe, kim) = barbers(api, salon)
    held = booking(
        api, {"service_id": service_id, "start": local(TUESDAY, 9).isoformat(), "resource_id": joe}
    )
    off = {
        "start": local(TUESDAY, 0).isoformat(),
        "end": local(TUESDAY, 23).isoformat(),
        "reason": "course",
    }

    refused = api.command("POST", f"/v1/resources/{joe}/time-off", OWNER, "owner", off)
    problem = assert_problem(refused, 409, "bookings-affected")
    assert [b["id"] for b in problem["affected_bookings"]] == [held["id"]]
    kept = api.command(
        "POST", f"/v1/resources/{joe}/time-off", OWNER, "owner", {**off, "keep_bookings": True}, 201
    ).json()

    resource = api.query(f"/v1/resources/{joe}", consistency=kept["consistency_token"]).json()
    assert [t["reason"] for t in resource["time_off"]] == ["course"]
    listed = api.query(f"/v1/businesses/{salon.business_id}/resources").json()["items"]
    assert sorted(r["name"] for r in listed) == ["Joe", "Kim"]
    later = booking(api, {"service_id": service_id, "start": local(TUESDAY, 11).isoformat()}, BOB)
    assert [r["id"] for r in later["resources"]] == [kim]


def test_a_weekly_series_is_placed_read_and_cancelled(api: Api, salon: Salon) -> None:
    service_id, _ = barbers(api, salon)
    body = {
        "service_id": service_id,
        "start": local(MONDAY, 9).isoformat(),
        "repeat": {"every": "P1W", "count": 4},
    }
    placed = api.command("POST", "/v1/bookings/series", ANN, "customer", body, 201).json()
    assert len(placed["bookings"]) == 4 and placed["skipped"] == []
    # Europe/Berlin moves to summer time on 2027-03-28: 09:00 stays 09:00 local.
    assert [b["start"][11:16] for b in placed["bookings"]] == ["08:00", "08:00", "08:00", "07:00"]

    series = api.query(
        f"/v1/series/{placed['series_id']}", ANN, consistency=placed["consistency_token"]
    ).json()
    assert len(series["bookings"]) == 4
    cancel = {"from": local(MONDAY.replace(day=20), 0).isoformat(), "reason": "moving"}
    done = api.command(
        "POST", f"/v1/series/{placed['series_id']}/cancel", ANN, "customer", cancel, 200
    ).json()
    assert len(done["cancelled"]) == 2
    bad = {**body, "repeat": {"every": "P1M", "count": 2}}
    assert_problem(api.command("POST", "/v1/bookings/series", ANN, "customer", bad), 422)


def test_metadata_that_cannot_be_stored_is_refused_naming_the_field(api: Api, salon: Salon) -> None:
    path = f"/v1/businesses/{salon.business_id}/resources"
    resource = {"name": "Joe", "kind": "staff", "category": "barber"}
    for metadata in ({"serial": 2**64}, {"a": {"b": {"c": {"d": {"e": 1}}}}}):
        refused = api.command("POST", path, OWNER, "owner", {**resource, "metadata": metadata})
        problem = assert_problem(refused, 422)
        assert "metadata" in str(problem.get("errors", problem["detail"]))
    kept = api.command("POST", path, OWNER, "owner", {**resource, "metadata": {"chair": 3}}, 201)
    assert kept.json()["metadata"] == {"chair": 3}


def test_a_resources_schedule_gives_each_days_open_hours_less_closures_and_time_off(
    api: Api, salon: Salon
) -> None:
    _, (joe, kim) = barbers(api, salon)
    afternoons = [{"day": d, "start": "12:00", "end": "20:00"} for d in WEEKDAYS]
    api.command("PATCH", f"/v1/resources/{joe}", OWNER, "owner", {"weekly": afternoons}, 200)
    closure = {"start": local(MONDAY, 16).isoformat(), "end": local(MONDAY, 17).isoformat()}
    api.command("POST", f"/v1/businesses/{salon.business_id}/closures", OWNER, "owner", closure)
    off = {"start": local(TUESDAY, 9).isoformat(), "end": local(TUESDAY, 12).isoformat()}
    added = api.command(
        "POST", f"/v1/resources/{kim}/time-off", OWNER, "owner", {**off, "reason": "course"}, 201
    ).json()
    path = f"/v1/businesses/{salon.business_id}/resources"
    span = {"from": MONDAY.isoformat(), "to": TUESDAY.isoformat()}

    listed = api.query(path, consistency=added["consistency_token"], params=span).json()["items"]
    days = {r["name"]: {d["date"]: d for d in r["schedule"]} for r in listed}

    def hours(name: str, day: Any) -> list[tuple[str, str]]:
        return [(o["start"], o["end"]) for o in days[name][day.isoformat()]["open"]]

    def at(day: Any, hour: int) -> str:
        return local(day, hour).isoformat()

    assert hours("Joe", MONDAY) == [(at(MONDAY, 12), at(MONDAY, 16))]  # the closure takes 16-17
    assert hours("Joe", TUESDAY) == [(at(TUESDAY, 12), at(TUESDAY, 17))]
    assert hours("Kim", MONDAY) == [(at(MONDAY, 9), at(MONDAY, 16))]
    assert hours("Kim", TUESDAY) == [(at(TUESDAY, 12), at(TUESDAY, 17))]
    assert [t["reason"] for t in days["Kim"][TUESDAY.isoformat()]["time_off"]] == ["course"]
    assert days["Kim"][MONDAY.isoformat()]["time_off"] == []
    one = api.query(f"/v1/resources/{kim}", params={"from": TUESDAY.isoformat()}).json()
    assert [d["date"] for d in one["schedule"]] == [TUESDAY.isoformat()]
    assert "schedule" not in api.query(path).json()["items"][0]

    api.command("POST", f"/v1/resources/{joe}/deactivate", OWNER, "owner", None, 200)
    api.settle()
    gone = api.query(f"/v1/resources/{joe}", params=span).json()
    assert [d["open"] for d in gone["schedule"]] == [[], []]
    for params, field in (
        ({"to": MONDAY.isoformat()}, "from"),
        ({"from": TUESDAY.isoformat(), "to": MONDAY.isoformat()}, "to"),
        ({"from": MONDAY.isoformat(), "to": "2027-06-01"}, "to"),
        ({"from": "monday"}, "from"),
    ):
        assert_names(assert_problem(api.query(path, params=params, expect=None), 422), field)
