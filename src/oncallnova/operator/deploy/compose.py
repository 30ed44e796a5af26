"""The Docker Compose driver: the exact `docker compose -f FILE ...` command lines."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from oncallnova.operator.deploy.driver import INFRASTRUCTURE, Plan, role_services

COMPOSE_FILE = Path("deploy/docker-compose.yml")
SCALED_SERVICE = "ingestion"


def services_in(compose_file: Path) -> tuple[str, ...] | None:
    """The service names the Compose file defines; None when it cannot be read."""
    try:
        import yaml

        document = yaml.safe_load(compose_file.read_text())
    except (OSError, ImportError, ValueError):
        return None
    services = document.get("services") if isinstance(document, dict) else None
    return tuple(services) if isinstance(services, dict) else None


class ComposeDriver:
    name = "docker compose"
    clean_warning = (
        "This deletes every container and volume of the deployment, data included. Go on?"
    )
    prints_urls = False  # `deploy` prints the seed's URLs table once `up --wait` returns

    def __init__(self, compose_file: Path = COMPOSE_FILE, docker: str = "docker") -> None:
        self.compose_file = compose_file
        self.docker = docker

    def missing(self) -> str | None:
        if shutil.which(self.docker) is None:
            return f"Docker is not installed (no `{self.docker}` on PATH)"
        probe = subprocess.run(  # noqa: S603 (a fixed argument list, no shell)
            [self.docker, "compose", "version"], capture_output=True, check=False, timeout=30
        )
        if probe.returncode != 0:
            return "Docker Compose v2 is missing (`docker compose version` failed)"
        daemon = subprocess.run(  # noqa: S603
            [self.docker, "info"], capture_output=True, check=False, timeout=30
        )
        if daemon.returncode != 0:
            return "the Docker daemon does not answer (`docker info` failed)"
        if not self.compose_file.is_file():
            return f"{self.compose_file} is missing (run from the repository's root)"
        return None

    def services(self) -> tuple[str, ...]:
        """From the Compose file when it is there, else the roles table and the seed's
        infrastructure, which the file is built from."""
        return services_in(self.compose_file) or (*role_services(), *INFRASTRUCTURE)

    def _compose(self, *args: str) -> tuple[str, ...]:
        return (self.docker, "compose", "-f", str(self.compose_file), *args)

    def build(self) -> Plan:
        return Plan((self._compose("build"),))

    def deploy(self) -> Plan:
        # `up --wait` returns once every service with a health check reports healthy
        # (and fails when one does not), so the URLs are printed only then.
        return Plan((self._compose("build"), self._compose("up", "-d", "--wait")))

    def down(self) -> Plan:
        return Plan((self._compose("down"),))

    def restart(self, service: str | None) -> Plan:
        return Plan((self._compose("restart", *([service] if service else [])),))

    def clean(self) -> Plan:
        return Plan((self._compose("down", "--volumes", "--remove-orphans", "--rmi", "local"),))

    def logs(self, service: str | None, follow: bool) -> Plan:
        flags = ["--follow"] if follow else ["--tail", "200"]
        return Plan((self._compose("logs", *flags, *([service] if service else [])),))

    def scale(self, replicas: int) -> Plan:
        scale = f"{SCALED_SERVICE}={replicas}"
        return Plan(
            (
                self._compose(
                    "up", "-d", "--no-recreate", "--wait", "--scale", scale, SCALED_SERVICE
                ),
            )
        )
