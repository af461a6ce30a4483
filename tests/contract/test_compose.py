"""docker-compose.yml is a valid Compose file with the stack the operations guide describes.

No Docker engine runs here: the file is validated against the Compose
Specification's JSON Schema (the copy check-jsonschema ships, from
github.com/compose-spec/compose-spec, Apache-2.0) and checked for what each
role needs.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

import check_jsonschema
import pytest
import yaml
from jsonschema import Draft7Validator

from infra.settings import DEV_JWT_SECRET

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_SCHEMA = (
    Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "compose-spec.json"
)
ROLES = ("write-api", "read-api", "relay", "projector")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_the_compose_file_is_valid_against_the_compose_specification(
    compose: dict[str, Any],
) -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    errors = sorted(Draft7Validator(schema).iter_errors(compose), key=lambda e: e.json_path)
    assert not errors, "\n".join(f"{e.json_path}: {e.message}" for e in errors)


def test_the_schema_really_rejects_a_broken_compose_file(compose: dict[str, Any]) -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    broken = {**compose, "services": {**compose["services"], "relay": {"depends_on": 42}}}
    assert list(Draft7Validator(schema).iter_errors(broken))


def test_infrastructure_uses_official_images_with_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    images = {
        name: services[name]["image"].split(":")[0] for name in ("postgres", "kafka", "redis")
    }
    assert images == {"postgres": "postgres", "kafka": "apache/kafka", "redis": "redis"}
    assert "controller" in services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft
    for name in ("postgres", "kafka", "redis"):
        assert services[name]["healthcheck"]["test"], name


def test_every_role_is_built_from_the_dockerfile_and_waits_for_healthy_dependencies(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert (ROOT / "Dockerfile").is_file()
    for role in ROLES:
        service = services[role]
        assert service["build"] == ".", role
        assert service["command"][0] in ("write-api", "read-api", "relay", "project"), role
        for dependency in ("postgres", "kafka", "redis"):
            assert service["depends_on"][dependency]["condition"] == "service_healthy", role
        environment = service["environment"]
        assert environment["SLOTWISE_KAFKA"] and environment["SLOTWISE_REDIS"], role
    assert services["projector"]["deploy"]["replicas"] == 2
    for api in ("write-api", "read-api"):
        assert "/ready" in " ".join(services[api]["healthcheck"]["test"])


def test_the_commands_the_compose_file_runs_exist() -> None:
    from typer.main import get_command

    from infra.cli import app

    commands = get_command(app).commands  # type: ignore[attr-defined]
    assert {"write-api", "read-api", "relay", "project"} <= set(commands)


def test_the_jwt_secret_must_be_set_and_has_no_default(compose: dict[str, Any]) -> None:
    value = compose["x-slotwise"]["environment"]["SLOTWISE_JWT_SECRET"]
    # `${VAR:?message}`: compose refuses to start at all while the variable is unset or empty.
    assert re.fullmatch(r"\$\{SLOTWISE_JWT_SECRET:\?[^}]*32[^}]*\}", value), value
    text = (ROOT / "docker-compose.yml").read_text()
    assert "change-me" not in text and DEV_JWT_SECRET not in text
    for role in (*ROLES, "payments"):
        assert compose["services"][role]["environment"]["SLOTWISE_JWT_SECRET"] == value, role


def installed_extras() -> set[str]:
    """The extras the Dockerfile's `pip install '.[...]'` (or './[...]') names."""
    found = re.search(r"pip install[^\n]*'\.?/?\[([a-z,]+)\]'", (ROOT / "Dockerfile").read_text())
    assert found, "the Dockerfile installs SlotWise with its extras"
    return set(found.group(1).split(","))


def test_the_image_installs_every_extra_the_compose_file_uses(compose: dict[str, Any]) -> None:
    environment = compose["x-slotwise"]["environment"]
    needed = {"postgres"} if environment["SLOTWISE_EVENT_STORE"].startswith("postgres") else set()
    needed |= {"kafka"} if environment.get("SLOTWISE_KAFKA") else set()
    needed |= {"redis"} if environment.get("SLOTWISE_REDIS") else set()
    # The payment worker and the webhook import stripe once a key is set.
    if "SLOTWISE_STRIPE_API_KEY" in environment or "payments" in compose["services"]:
        needed.add("stripe")
    assert needed == {"postgres", "kafka", "redis", "stripe"}
    assert needed <= installed_extras()
    with (ROOT / "pyproject.toml").open("rb") as project:
        extras = tomllib.load(project)["project"]["optional-dependencies"]
    assert installed_extras() <= set(extras)


def test_kafka_keeps_its_log_in_the_volume_and_listens_inside_and_on_the_host(
    compose: dict[str, Any],
) -> None:
    kafka = compose["services"]["kafka"]
    environment = kafka["environment"]
    mounts = dict(volume.split(":")[::-1] for volume in kafka["volumes"])
    log_dir = PurePosixPath(environment["KAFKA_LOG_DIRS"])
    assert any(log_dir.is_relative_to(target) for target in mounts), (log_dir, mounts)
    assert set(mounts.values()) <= set(compose["volumes"])

    # host:port -> listener name, e.g. "kafka:9092" -> "PLAINTEXT"
    advertised: dict[str, str] = {}
    for listener in environment["KAFKA_ADVERTISED_LISTENERS"].split(","):
        name, address = listener.split("://")
        advertised[address] = name
    assert set(advertised) == {"kafka:9092", "localhost:9094"}
    listeners = environment["KAFKA_LISTENERS"]
    protocols = environment["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
    for name in advertised.values():
        assert f"{name}://" in listeners and f"{name}:" in protocols, name
    assert environment["KAFKA_INTER_BROKER_LISTENER_NAME"] == advertised["kafka:9092"]
    assert [p.split(":")[-2:] for p in kafka["ports"]] == [["9094", "9094"]]
    assert compose["x-slotwise"]["environment"]["SLOTWISE_KAFKA"] == "kafka:9092"


def test_topic_retention_is_a_setting_that_keeps_records_for_ever_by_default(
    compose: dict[str, Any],
) -> None:
    value = compose["x-slotwise"]["environment"]["SLOTWISE_KAFKA_RETENTION_MS"]
    assert value == "${SLOTWISE_KAFKA_RETENTION_MS:--1}"
