"""docker-compose.yml is a valid Compose file with the production topology, and no secret
is written in it. Validation is Debian's `docker-compose config` (it checks the file
against the Compose specification's JSON Schema and resolves interpolation; no Docker
engine needed). CI installs it (.ci/run)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.conftest import ROOT, missing

COMPOSE = ROOT / "docker-compose.yml"
PLACEHOLDERS = {"POSTGRES_PASSWORD": "pw-from-env", "KADENZ_SECRET_KEY": "key-from-env"}


def _compose(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        missing("docker-compose (Debian package docker-compose)")
    clean = {k: v for k, v in os.environ.items() if k not in PLACEHOLDERS}
    return subprocess.run(
        [str(binary), "-f", str(COMPOSE), "--project-directory", str(ROOT), "config"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    result = _compose(PLACEHOLDERS)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = YAML(typ="safe").load(result.stdout)
    return data


def test_the_file_validates_and_has_the_production_topology(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    assert set(services) == {
        "postgres", "redis", "migrate", "worker", "beat", "idle", "api", "mailpit",
    }  # fmt: skip
    assert services["migrate"]["command"] == ["kadenz", "init"]
    assert services["migrate"]["restart"] == "no"
    for name in ("worker", "beat", "idle", "api"):
        after = services[name]["depends_on"]
        assert after["migrate"]["condition"] == "service_completed_successfully", name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["worker"]["command"][:2] == ["kadenz", "worker"]
    assert services["beat"]["command"][:2] == ["kadenz", "beat"]
    assert services["idle"]["command"] == ["kadenz", "idle"]
    assert services["api"]["command"][:2] == ["kadenz", "serve"]
    env = services["worker"]["environment"]
    assert env["KADENZ_DATABASE_URL"].startswith("postgresql+psycopg://kadenz:pw-from-env@postgres")
    assert env["KADENZ_BROKER_URL"] != env["KADENZ_REDIS_URL"]  # the broker has its own DB
    assert env["KADENZ_SECRET_KEY"] == "key-from-env"


def test_no_secret_is_written_in_the_file() -> None:
    raw = COMPOSE.read_text()
    data = YAML(typ="safe").load(raw)
    secretish = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$")
    found = []
    for source in [data["x-kadenz"], *data["services"].values()]:
        for name, value in (source.get("environment") or {}).items():
            if secretish.search(name) and not str(value).startswith("${"):
                found.append(name)
            if "://" in str(value) and "@" in str(value):  # a URL with credentials
                userinfo = str(value).split("://", 1)[1].split("@", 1)[0]
                if ":" in userinfo and "${" not in userinfo:
                    found.append(name)
    assert found == []


def test_missing_secrets_stop_compose_with_a_message_naming_them() -> None:
    result = _compose({})
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr


def test_the_image_runs_as_a_user_and_ships_the_workers() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER kadenz$", dockerfile, re.M)
    assert "COPY workers ./workers" in dockerfile and "COPY engine ./engine" in dockerfile
    assert Path(ROOT / ".dockerignore").read_text().count(".venv") == 1
