"""The interface every deployment driver offers, and how one is chosen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from oncallnova.runtime.roles import ROLES, SPLIT_ROLES

DEFAULT_REPLICAS = 3
# The seed's URLs table: what `deploy` prints once everything is healthy.
URLS: tuple[tuple[str, str], ...] = (
    ("web UI", "http://localhost:8080"),
    ("API docs", "http://localhost:8080/docs"),
    ("gateway (Traefik)", "http://localhost"),
    ("Traefik dashboard", "http://localhost:8888"),
    ("metrics role", "http://localhost:9090/metrics"),
    ("Prometheus", "http://localhost:9091"),
    ("Grafana", "http://localhost:3000"),
    ("Jaeger", "http://localhost:16686"),
    ("MailHog", "http://localhost:8025"),
)
# Everything the seed's deployment runs besides OnCallNova's own roles.
INFRASTRUCTURE = (
    "postgres",
    "redis",
    "traefik",
    "prometheus",
    "grafana",
    "jaeger",
    "loki",
    "promtail",
    "mailhog",
)


def role_services() -> tuple[str, ...]:
    """OnCallNova's own services: one per role of a split installation."""
    return tuple(ROLES[name].name.value for name in SPLIT_ROLES)


@dataclass(frozen=True)
class Plan:
    """Command lines to run in order, each a list of arguments (no shell)."""

    commands: tuple[tuple[str, ...], ...]

    def lines(self) -> list[str]:
        return [" ".join(command) for command in self.commands]


class DeploymentDriver(Protocol):
    name: str
    clean_warning: str  # what `clean` asks before it removes anything
    prints_urls: bool  # whether its `deploy` prints the URLs itself

    def missing(self) -> str | None:
        """None when the driver can run here; else one line saying what is missing."""

    def services(self) -> tuple[str, ...]: ...

    def build(self) -> Plan: ...

    def deploy(self) -> Plan:
        """Build, start and wait until every service is healthy."""

    def down(self) -> Plan: ...

    def restart(self, service: str | None) -> Plan: ...

    def clean(self) -> Plan:
        """Remove containers, volumes and locally built images."""

    def logs(self, service: str | None, follow: bool) -> Plan: ...

    def scale(self, replicas: int) -> Plan:
        """Run `replicas` ingestion replicas."""
