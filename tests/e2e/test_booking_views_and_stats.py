"""Who sees which bookings over HTTP, and what the owner's stats say about them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import FrozenClock
from tests.e2e.conftest import ANN, BOB, MONDAY, OTHER_OWNER, OWNER, TUESDAY, Api, Salon, local

WEDNESDAY = TUESDAY + timedelta(days=1)


def book_three(api: Api, salon: Salon) -> tuple[str, str, str, str]:
    """Ann: Monday 10:00 and Tuesday 10:00 (cancelled); Bob: Monday 11:00. Returns ids + token."""
    ann_monday = api.book(salon.service_id, local(MONDAY, 10), expect=201).json()["id"]
    ann_tuesday = api.book(salon.service_id, local(TUESDAY, 10), expect=201).json()["id"]
    bob_monday = api.book(salon.service_id, local(MONDAY, 11), BOB, expect=201).json()["id"]
    cancelled = api.act(ann_tuesday, "cancel", ANN, "customer", {"reason": "away"})
    assert cancelled.status_code == 200, cancelled.text
    return ann_monday, ann_tuesday, bob_monday, cancelled.json()["consistency_token"]


def ids(response_body: dict[str, list[dict[str, str]]]) -> set[str]:
    return {item["id"] for item in response_body["items"]}


def test_the_owner_lists_the_business_bookings_by_date_range_and_status(
    api: Api, salon: Salon
) -> None:
    ann_monday, ann_tuesday, bob_monday, token = book_three(api, salon)
    path = f"/v1/businesses/{salon.business_id}/bookings"

    def listed(**params: str) -> set[str]:
        return ids(api.query(path, OWNER, "owner", consistency=token, params=params).json())

    assert listed() == {ann_monday, ann_tuesday, bob_monday}
    assert listed(**{"from": MONDAY.isoformat(), "to": MONDAY.isoformat()}) == {
        ann_monday,
        bob_monday,
    }
    assert listed(**{"from": TUESDAY.isoformat()}) == {ann_tuesday}
    assert listed(status="cancelled") == {ann_tuesday}
    assert listed(status="confirmed", to=TUESDAY.isoformat()) == {ann_monday, bob_monday}
    assert listed(status="no_show") == set()


def test_a_customer_sees_only_their_own_bookings(api: Api, salon: Salon) -> None:
    ann_monday, ann_tuesday, bob_monday, token = book_three(api, salon)

    mine = api.query("/v1/me/bookings", ANN, consistency=token).json()
    assert ids(mine) == {ann_monday, ann_tuesday}
    assert ids(api.query("/v1/me/bookings", BOB, consistency=token).json()) == {bob_monday}
    confirmed = api.query("/v1/me/bookings", ANN, params={"status": "confirmed"}).json()
    assert ids(confirmed) == {ann_monday}

    one = api.query(f"/v1/bookings/{ann_monday}", ANN).json()
    assert one["customer_id"] == ANN
    assert one["placed_by"] == ANN
    assert one["business_id"] == salon.business_id
    assert one["status"] == "confirmed"
    assert one["local_date"] == MONDAY.isoformat()
    assert one["timezone"] == "Europe/Berlin"
    assert one["price"] == {"amount": "30.00", "currency": "EUR"}
    assert datetime.fromisoformat(one["start"]) == local(MONDAY, 10)
    cancelled = api.query(f"/v1/bookings/{ann_tuesday}", ANN).json()
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "away")


def test_other_customers_and_other_owners_cannot_see_a_booking(api: Api, salon: Salon) -> None:
    ann_monday, *_ = book_three(api, salon)
    other = api.open_salon(owner=OTHER_OWNER, slug="elsewhere")
    path = f"/v1/bookings/{ann_monday}"

    api.query(path, BOB, consistency=other.token, expect=404)
    assert api.query(path, OTHER_OWNER, "owner", expect=None).status_code in (403, 404)
    audited = api.query(path, "someone", "auditor").json()  # auditors read every booking...
    assert audited["id"] == ann_monday and audited["contact"] is None  # ...but no personal data
    assert api.query(path, OWNER, "owner").json()["id"] == ann_monday
    assert api.query(path, "root", "admin").json()["id"] == ann_monday
    listing = f"/v1/businesses/{salon.business_id}/bookings"
    api.query(listing, OTHER_OWNER, "owner", expect=403)
    api.query(listing, ANN, "customer", expect=403)
    stats = f"/v1/businesses/{salon.business_id}/stats"
    week = {"from": MONDAY.isoformat(), "to": TUESDAY.isoformat()}
    api.query(stats, OTHER_OWNER, "owner", params=week, expect=403)
    api.query(stats, BOB, "customer", params=week, expect=403)


def test_a_booking_keeps_the_price_it_was_made_at(api: Api, salon: Salon) -> None:
    booking = api.book(salon.service_id, local(MONDAY, 10), expect=201).json()
    new_price = {"price": {"amount": "45.00", "currency": "EUR"}}
    api.command("PATCH", f"/v1/services/{salon.service_id}", OWNER, "owner", new_price, 200)
    token = api.book(salon.service_id, local(MONDAY, 12), BOB, expect=201).json()
    seen = api.query(f"/v1/bookings/{booking['id']}", ANN, consistency=token["consistency_token"])
    assert seen.json()["price"] == {"amount": "30.00", "currency": "EUR"}
    later = api.query(f"/v1/bookings/{token['id']}", BOB).json()
    assert later["price"] == {"amount": "45.00", "currency": "EUR"}


def test_stats_count_bookings_cancellations_no_shows_revenue_and_utilization(
    api: Api, salon: Salon, clock: FrozenClock
) -> None:
    dollars = api.add_service(salon.business_id, OWNER, price="25.50", currency="USD")
    eur, usd = salon.service_id, dollars["id"]
    api.book(eur, local(MONDAY, 9), expect=201)
    api.book(usd, local(MONDAY, 10), BOB, expect=201)
    dropped = api.book(eur, local(MONDAY, 11), expect=201).json()["id"]
    absent = api.book(eur, local(MONDAY, 13), BOB, expect=201).json()["id"]
    api.book(eur, local(TUESDAY, 9), expect=201)
    api.act(dropped, "cancel", ANN, "customer", {"reason": "changed mind"})
    clock.now = datetime(2027, 3, 8, 12, 30, tzinfo=UTC)  # 13:30 in Berlin
    marked = api.act(absent, "no-show", OWNER, "owner")
    assert marked.status_code == 200, marked.text

    params = {"from": MONDAY.isoformat(), "to": WEDNESDAY.isoformat()}
    stats = api.query(
        f"/v1/businesses/{salon.business_id}/stats",
        OWNER,
        "owner",
        consistency=marked.json()["consistency_token"],
        params=params,
    ).json()

    assert stats["business_id"] == salon.business_id
    assert stats["timezone"] == "Europe/Berlin"
    monday, tuesday, wednesday = stats["days"]
    assert monday["date"] == MONDAY.isoformat()
    assert (monday["bookings"], monday["cancellations"], monday["no_shows"]) == (4, 1, 1)
    assert monday["revenue"] == [
        {"amount": "30.00", "currency": "EUR"},
        {"amount": "25.50", "currency": "USD"},
    ]
    assert monday["open_minutes"] == 480
    assert monday["booked_minutes"] == 180  # 09:00, 10:00 and the no-show's 13:00
    assert monday["utilization"] == 0.375
    assert (tuesday["bookings"], tuesday["cancellations"], tuesday["no_shows"]) == (1, 0, 0)
    assert tuesday["revenue"] == [{"amount": "30.00", "currency": "EUR"}]
    assert tuesday["utilization"] == 0.125
    assert wednesday["date"] == WEDNESDAY.isoformat()
    assert (wednesday["bookings"], wednesday["revenue"], wednesday["utilization"]) == (0, [], 0.0)
