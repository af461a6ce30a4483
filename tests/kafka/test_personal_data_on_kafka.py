"""Personal data never travels on Kafka in plain text: every record of the public topics is
searched for a customer's notes, contact and cancellation reason, before and after an erase."""

from __future__ import annotations

import pytest

from commands.messages import CancelBooking, ErasePersonalData, PlaceBooking
from domain.personal import Contact
from infra.bootstrap import Container
from infra.settings import Settings
from tests.kafka.conftest import CUSTOMERS, Threads, Workload, wait_until
from tests.kafka.test_relay import relay_position, start_relay, written
from tests.kafka_messages import Published, read_topics

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

NOTE = "allergic to lavender oil"
CONTACT = Contact("Ann Example", "ann.example@mail.test", "+4915112345678", "de-DE")
REASON = "my divorce hearing moved"
SECRETS = (NOTE, REASON, "Ann Example", "ann.example@mail.test", "+4915112345678")


def assert_nothing_personal(messages: list[Published]) -> None:
    for message in messages:
        held = message.raw + (message.key or b"") + repr(message.headers).encode()
        for secret in SECRETS:
            assert secret.encode() not in held, (secret, message.topic, message.offset)


def test_notes_contact_and_reasons_are_never_on_kafka_before_or_after_an_erase(
    container: Container, settings: Settings, threads: Threads
) -> None:
    load = Workload(container, businesses=1)
    ann = CUSTOMERS[0]
    service = load.services[0].id
    kept = PlaceBooking(ann, service, load.slot(1), NOTE, contact=CONTACT)
    container.app.handle(kept)
    gone = container.app.handle(PlaceBooking(ann, service, load.slot(2), NOTE, contact=CONTACT))
    container.app.handle(CancelBooking(ann, gone.id, REASON))
    relay = start_relay(settings, threads)
    wait_until(lambda: relay_position(relay) >= written(container), what="the relay")

    before = read_topics(settings)
    assert {m.value["type"] for m in before} >= {
        "slotwise.booking.placed",
        "slotwise.booking.cancelled",
    }
    assert any(m.value["data"].get("personal_data") for m in before)  # sealed, not absent
    assert_nothing_personal(before)

    container.app.handle(ErasePersonalData(ann, ann.id))
    container.app.handle(PlaceBooking(ann, service, load.slot(3), NOTE, contact=CONTACT))
    wait_until(lambda: relay_position(relay) >= written(container), what="the relay")

    after = read_topics(settings)
    assert len(after) > len(before)
    assert_nothing_personal(after)
