"""Operators can see: /metrics on both APIs (scraped and parsed as Prometheus would) and one
JSON log line per request naming the server, route, status, duration, actor and correlation."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError
from prometheus_client.parser import text_string_to_metric_families

from infra.logs import JsonFormatter
from tests.e2e.conftest import ANN, MONDAY, Api, Salon, local


def scrape(client: Any) -> dict[str, list[Any]]:
    """Every sample on /metrics, by metric family name."""
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {f.name: list(f.samples) for f in text_string_to_metric_families(answer.text)}


def value(samples: list[Any], name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    assert found, (name, labels, samples)
    return float(sum(found))


def test_metrics_count_requests_by_route_template_and_commands_by_outcome(
    api: Api, salon: Salon
) -> None:
    booked = api.book(salon.service_id, local(MONDAY, 10), expect=201).json()
    api.book(salon.service_id, local(MONDAY, 10), "bob", expect=409)
    api.act(booked["id"], "cancel", ANN, "customer", {"reason": "flu"})
    api.query(f"/v1/bookings/{booked['id']}", ANN, consistency=booked["consistency_token"])
    api.read.get("/no/such/path")

    written = scrape(api.write)
    requests = written["slotwise_http_request_duration_seconds"]
    assert (
        value(
            requests,
            "slotwise_http_request_duration_seconds_count",
            route="/v1/bookings",
            status="201",
            api="write",
            method="POST",
        )
        == 1
    )
    assert (
        value(
            requests,
            "slotwise_http_request_duration_seconds_count",
            route="/v1/bookings/{booking_id}/cancel",
            status="200",
        )
        == 1
    )
    commands = written["slotwise_command_outcomes"]
    assert (
        value(commands, "slotwise_command_outcomes_total", command="place_booking", result="ok")
        == 1
    )
    assert (
        value(
            commands,
            "slotwise_command_outcomes_total",
            command="place_booking",
            result="slot-unavailable",
        )
        == 1
    )
    assert (
        value(commands, "slotwise_command_outcomes_total", command="cancel_booking", result="ok")
        == 1
    )

    read = scrape(api.read)["slotwise_http_request_duration_seconds"]
    assert (
        value(
            read,
            "slotwise_http_request_duration_seconds_count",
            route="/v1/bookings/{booking_id}",
            api="read",
            status="200",
        )
        == 1
    )
    assert (
        value(
            read, "slotwise_http_request_duration_seconds_count", route="<unmatched>", status="404"
        )
        == 1
    )


def test_metrics_show_each_projectors_position_and_lag(api: Api, salon: Salon) -> None:
    booked = api.book(salon.service_id, local(MONDAY, 10), expect=201).json()
    api.query(f"/v1/bookings/{booked['id']}", ANN, consistency=booked["consistency_token"])
    api.settle()  # that read waited for its own projectors only; now all of them
    head = api.events()

    families = scrape(api.read)
    positions = families["slotwise_projection_position"]
    assert {s.labels["projector"] for s in positions} == {
        "business_directory",
        "service_catalogue",
        "availability",
        "bookings",
        "business_stats",
        "resources",
        "waitlist",
    }
    assert all(s.value == head for s in positions)
    assert all(s.value == 0 for s in families["slotwise_projection_lag_events"])
    assert families["slotwise_event_log_head"][0].value == head
    if api.stack is not None:  # fed through Kafka: the relay and every projector caught up
        lag = families["slotwise_kafka_lag_events"]
        assert lag and all(s.value == 0 for s in lag), [(s.labels, s.value) for s in lag]


def test_metrics_count_retries_after_a_concurrent_writer_won(
    api: Api, salon: Salon, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = api.container.app
    save, conflicts = app.save, iter([IntegrityError("a concurrent writer got there first")])

    def save_losing_once(*aggregates: Any, **kwargs: Any) -> Any:
        conflict = next(conflicts, None)
        if conflict is not None:
            raise conflict
        return save(*aggregates, **kwargs)

    monkeypatch.setattr(app, "save", save_losing_once)
    api.book(salon.service_id, local(MONDAY, 10), expect=201)
    samples = scrape(api.write)["slotwise_conflict_retries"]
    assert value(samples, "slotwise_conflict_retries_total") == 1


def test_each_request_is_one_json_log_line_naming_server_route_actor_and_correlation(
    api: Api, salon: Salon, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="slotwise.request")
    booked = api.book(salon.service_id, local(MONDAY, 10), **{"X-Correlation-Id": "req-42.a:b"})
    token = booked.json()["consistency_token"]  # fed through Kafka, the read side may lag
    api.query(f"/v1/businesses/{salon.business_id}", params={"x": "1"}, consistency=token)
    unusable = api.read.get("/v1/me/bookings", headers={"X-Correlation-Id": "bad id with spaces"})

    requests = [r for r in caplog.records if r.name == "slotwise.request"]  # not a broker's
    lines = [json.loads(JsonFormatter().format(r)) for r in requests]
    write = next(line for line in lines if line["route"] == "/v1/bookings")
    assert write["server"] == "write"
    assert (write["method"], write["path"], write["status"]) == ("POST", "/v1/bookings", 201)
    assert (write["actor_id"], write["actor_role"]) == (ANN, "customer")
    assert write["correlation_id"] == "req-42.a:b"
    assert write["duration_ms"] >= 0
    assert booked.status_code == 201
    read = next(line for line in lines if line["route"] == "/v1/businesses/{business_id}")
    assert read["server"] == "read" and "actor_id" not in read
    refused = next(line for line in lines if line["route"] == "/v1/me/bookings")
    assert refused["status"] == 401
    assert refused["correlation_id"] == unusable.headers["X-Correlation-Id"] != "bad id with spaces"
