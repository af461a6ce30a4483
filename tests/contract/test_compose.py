"""docker-compose.yml is a valid Compose file with the stack the operations guide describes.

No Docker engine runs here: the file is validated against the Compose
Specification's JSON Schema (the copy check-jsonschema ships, from
github.com/compose-spec/compose-spec, Apache-2.0) and checked for what each
role needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import check_jsonschema
import pytest
import yaml
from jsonschema import Draft7Validator

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
