"""docker-compose.yml cannot run here (no Docker engine), so its structure is checked: users run it for real."""

import re
from pathlib import Path

import pytest
import yaml

from shared.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
RAW = (ROOT / "docker-compose.yml").read_text()


def compose_name(service: str) -> str:
    return service.replace("_", "-")


def test_every_platform_service_and_dependency_is_in_compose():
    services = COMPOSE["services"]
    for name in SERVICES:
        assert compose_name(name) in services, f"{name} missing from docker-compose.yml"
    for dependency in ("mongo", "rabbitmq", "mailpit"):
        assert dependency in services


@pytest.mark.parametrize("name", list(SERVICES))
def test_each_service_is_built_with_a_health_check_and_waits_for_healthy_dependencies(name):
    service = COMPOSE["services"][compose_name(name)]
    assert service["build"] == "."
    assert service["healthcheck"]["test"], f"{name} has no health check"
    assert service["environment"]["SERVICE"] == name
    assert service["environment"]["PORT"] == str(SERVICES[name].port)
    depends = service["depends_on"]
    assert depends, f"{name} starts without waiting for anything"
    assert all(d["condition"] == "service_healthy" for d in depends.values())


def test_mongo_is_an_initialised_replica_set_with_a_named_volume():
    mongo = COMPOSE["services"]["mongo"]
    assert "--replSet" in mongo["command"]
    assert "rs.initiate" in " ".join(mongo["healthcheck"]["test"])
    assert any(v.startswith("mongo-data:") for v in mongo["volumes"])
    assert set(COMPOSE["volumes"]) >= {"mongo-data", "rabbitmq-data", "mailpit-data"}


def test_only_the_gateway_and_admin_uis_publish_ports():
    published = {name for name, s in COMPOSE["services"].items() if s.get("ports")}
    assert published == {"gateway", "rabbitmq", "mailpit"}
    assert COMPOSE["services"]["gateway"]["ports"] == ["${GATEWAY_PORT:-8000}:8000"]


def test_secrets_are_required_and_documented_in_env_example():
    required = set(re.findall(r"\$\{([A-Z_]+):\?", RAW))
    assert {"RABBITMQ_USER", "RABBITMQ_PASSWORD", "JWT_PRIVATE_KEY_PATH"} <= required
    example = (ROOT / ".env.example").read_text()
    for variable in required:
        assert re.search(rf"^{variable}=", example, re.M), f"{variable} not in .env.example"
    assert re.search(r"^RABBITMQ_PASSWORD=$", example, re.M), "a secret must not ship with a default"


def test_the_image_never_ships_the_dev_only_database():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install ." in dockerfile and "[dev]" not in dockerfile
    assert "USER app" in dockerfile
