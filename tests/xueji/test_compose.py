"""docker-compose.yml, .env.example and the Dockerfile, checked without a Docker engine.

Debian's docker-compose (1.29, installed by .ci/run) validates the file against its schema and resolves
variables from an .env made of .env.example; without it, PyYAML reads the file and the structure is
checked here.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
APP_SERVICES = {"migrate", "web", "worker", "beat"}


def _compose_project(tmp_path: Path) -> Path:
    """A copy of the compose file beside an .env made from .env.example (compose requires the env file)."""
    shutil.copy(COMPOSE, tmp_path / "docker-compose.yml")
    shutil.copy(ENV_EXAMPLE, tmp_path / ".env")
    return tmp_path / "docker-compose.yml"


def _services() -> dict:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(COMPOSE.read_text())["services"]


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


@pytest.mark.skipif(shutil.which("docker-compose") is None,
                    reason="docker-compose is not installed (apt-get install -y docker-compose)")
def test_docker_compose_accepts_the_file_with_the_example_env(tmp_path):
    compose = _compose_project(tmp_path)

    result = subprocess.run(["docker-compose", "-f", str(compose), "config", "-q"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr


def test_it_runs_postgres_redis_web_worker_and_beat():
    services = _services()

    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert "celery -A xueji worker" in _command(services["worker"])
    assert "celery -A xueji beat" in _command(services["beat"])
    assert "migrate" in _command(services["migrate"])


def test_app_services_read_the_env_file_and_run_in_production_mode():
    services = _services()

    for name in APP_SERVICES:
        service = services[name]
        assert service["env_file"] == ".env", name
        assert service["environment"]["DEBUG"] == "0", name
        assert service["environment"]["REDIS_URL"].startswith("redis://redis:"), name
        assert service["environment"]["DATABASE_URL"].startswith("postgres://"), name
        assert service["build"] == ".", name


def test_long_running_services_have_healthchecks_and_wait_for_migrations():
    services = _services()

    for name in ("postgres", "redis", "web", "worker"):
        assert services[name]["healthcheck"]["test"], name
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name


def test_env_example_names_every_variable_the_compose_file_uses():
    used = set(re.findall(r"\$\{([A-Z_]+)", COMPOSE.read_text()))
    documented = set(re.findall(r"^([A-Z_]+)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))

    assert used - documented == set()
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "POSTGRES_PASSWORD", "AXES_FAILURE_LIMIT", "AXES_COOLOFF_MINUTES",
            "SESSION_IDLE_MINUTES"} <= documented


def test_the_dockerfile_builds_a_non_root_gunicorn_image():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, flags=re.MULTILINE)
    assert "pip install ." in dockerfile
    assert "collectstatic --noinput" in dockerfile
    assert "xueji.wsgi:application" in dockerfile
    users = re.findall(r"^USER (\S+)$", dockerfile, flags=re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}


def test_secrets_and_local_state_stay_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())

    assert {".env", ".git", ".venv", "var"} <= ignored
