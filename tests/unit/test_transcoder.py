"""The orjson transcoder: exact round trips, and wire compatibility with the library's."""

from __future__ import annotations

import json
import string
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from commands.app import SlotWise
from commands.messages import PlaceBooking
from domain.allocation import DayAllocation
from domain.booking import BookingStatus
from infra.transcoder import OrjsonTranscoder
from tests.conftest import examples

from .builders import Clock, customer, new_york, open_salon, owner

ORJSON = OrjsonTranscoder()
PLACED = {  # the shape of a Booking.Placed event's state
    "originator_id": UUID("4f2b0c1e-8a57-4d3c-9f43-1c2d3e4f5a6b"),
    "originator_version": 1,
    "timestamp": datetime(2027, 3, 1, 12, 0, 0, 123456, tzinfo=UTC),
    "start": datetime(2027, 3, 2, 14, 0, tzinfo=UTC),
    "price_amount": Decimal("30.00"),
    "currency": "USD",
    "notes": "nut allergy — no almond oil",
    "weekly": [{"day": "mon", "start": "09:00", "end": "17:00"}],
    "seats": 3,
    "requires_confirmation": False,
    "cancel_reason": None,
}


def library_transcoder() -> JSONTranscoder:
    """JSONTranscoder registered exactly as eventsourcing's Application registers it."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return transcoder


def test_round_trips_the_state_of_a_booking_event() -> None:
    assert ORJSON.decode(ORJSON.encode(PLACED)) == PLACED


def test_keeps_the_cents_of_a_price() -> None:
    assert str(ORJSON.decode(ORJSON.encode(Decimal("30.00")))) == "30.00"


def test_keeps_the_offset_and_the_instant_of_a_time() -> None:
    kolkata = datetime(2027, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    decoded = ORJSON.decode(ORJSON.encode(kolkata))
    assert decoded == kolkata
    assert decoded.utcoffset() == timedelta(hours=5, minutes=30)


def test_round_trips_an_allocation_day() -> None:
    assert ORJSON.decode(ORJSON.encode({"day": date(2027, 3, 14)})) == {"day": date(2027, 3, 14)}


def test_writes_a_status_as_its_plain_value() -> None:
    assert json.loads(ORJSON.encode({"status": BookingStatus.NO_SHOW})) == {"status": "no_show"}


def test_writes_tuples_as_lists() -> None:
    assert ORJSON.decode(ORJSON.encode((1, "a"))) == [1, "a"]


def test_writes_the_same_tagged_json_as_the_librarys_transcoder() -> None:
    assert json.loads(ORJSON.encode(PLACED)) == json.loads(library_transcoder().encode(PLACED))


def test_tags_a_uuid_with_the_librarys_name_for_it() -> None:
    some_id = uuid4()
    assert json.loads(ORJSON.encode(some_id)) == {"_type_": "uuid_hex", "_data_": some_id.hex}


def test_reads_what_the_librarys_transcoder_wrote() -> None:
    assert ORJSON.decode(library_transcoder().encode(PLACED)) == PLACED


def test_lets_the_librarys_transcoder_read_what_it_wrote() -> None:
    assert library_transcoder().decode(ORJSON.encode(PLACED)) == PLACED


def test_refuses_a_type_it_cannot_write() -> None:
    with pytest.raises(TranscodingNotRegisteredError):
        ORJSON.encode({"tags": {"vip"}})


def test_refuses_a_tag_it_cannot_read() -> None:
    with pytest.raises(TranscodingNotRegisteredError, match="'money_cents'"):
        ORJSON.decode(b'{"price":{"_type_":"money_cents","_data_":3000}}')


def test_leaves_a_dict_that_merely_mentions_a_type_alone() -> None:
    raw = {"_type_": "uuid_hex", "_data_": "x", "note": "not a tag"}
    assert ORJSON.decode(ORJSON.encode(raw)) == raw


KEYS = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8)
OFFSETS = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-4))]
)
SHARED_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.text(max_size=20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.uuids(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.datetimes(timezones=OFFSETS),
)


def nested(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)
        ),
        max_leaves=20,
    )


@settings(max_examples=examples(150), deadline=None, database=None)
@given(nested(st.one_of(SHARED_SCALARS, st.dates())))
def test_round_trips_any_nesting_of_event_values(value: Any) -> None:
    assert ORJSON.decode(ORJSON.encode(value)) == value


@settings(max_examples=examples(150), deadline=None, database=None)
@given(nested(SHARED_SCALARS))
def test_agrees_with_the_librarys_transcoder_in_both_directions(value: Any) -> None:
    library = library_transcoder()
    assert library.decode(ORJSON.encode(value)) == value
    assert ORJSON.decode(library.encode(value)) == value


def sqlite_app(path: Path, clock: Clock, transcoder: str | None) -> SlotWise:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    if transcoder:
        env["TRANSCODER_TOPIC"] = transcoder
    return SlotWise(env=env, clock=clock)


@pytest.mark.parametrize(
    ("writer", "reader"),
    [(None, "infra.transcoder:OrjsonTranscoder"), ("infra.transcoder:OrjsonTranscoder", None)],
    ids=["library-then-orjson", "orjson-then-library"],
)
def test_reads_a_business_and_its_service_from_a_store_the_other_transcoder_wrote(
    tmp_path: Path, clock: Clock, writer: str | None, reader: str | None
) -> None:
    path = tmp_path / "events.sqlite"
    business_id, service_id = open_salon(sqlite_app(path, clock, writer), owner())
    again = sqlite_app(path, clock, reader)
    assert again.repository.get(business_id).weekly[0]["start"] == "09:00"
    assert again.repository.get(service_id).price_amount == Decimal("30.00")


def test_reads_a_booked_day_from_an_orjson_store_with_the_librarys_transcoder(
    tmp_path: Path, clock: Clock
) -> None:
    path = tmp_path / "events.sqlite"
    writer = sqlite_app(path, clock, "infra.transcoder:OrjsonTranscoder")
    business_id, service_id = open_salon(writer, owner())
    writer.place_booking(PlaceBooking(customer(), service_id, new_york(2, 9)))
    reader = sqlite_app(path, clock, None)
    tuesday = date(2027, 3, 2)
    assert reader.repository.get(DayAllocation.create_id(business_id, tuesday)).day == tuesday
