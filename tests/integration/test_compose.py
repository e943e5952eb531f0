"""docker-compose.yml describes the production-like stack; it must stay valid."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
REQUIRED_SERVICES = {
    "postgres",
    "redis",
    "orthanc",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "worker-cpu",
    "worker-gpu",
    "dashboard",
}


def _compose_binary() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if os.environ.get("CI") == "true":
        pytest.fail("docker-compose (Debian package) is required in CI: make system-packages")
    pytest.skip("docker-compose not installed (apt-get install docker-compose)")


def test_compose_config_is_valid() -> None:
    env = {**os.environ, "POSTGRES_PASSWORD": "test", "ICHSILENT_PSEUDONYM_KEY": "k" * 32}
    result = subprocess.run(
        [*_compose_binary(), "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_compose_has_the_stack_and_a_gpu_worker() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert set(services) >= REQUIRED_SERVICES
    gpu = services["worker-gpu"]
    assert "gpu" in gpu["command"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]
    # Services reachable from the host listen on loopback only.
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
