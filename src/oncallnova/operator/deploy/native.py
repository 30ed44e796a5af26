"""The native driver: the no-Docker process topology, `oncallnova stack`, on this
machine's DATABASE_URL (PostgreSQL) and REDIS_URL, behind Traefik.

Each command is a command line of `oncallnova stack`, run in a process of its own like
Compose's, so `--dry-run` shows exactly what runs. The stack keeps its state in the data
directory, so `down`, `logs`, `scale` and `restart` find the processes `deploy` started.
"""

from __future__ import annotations

import sys

from pydantic import ValidationError

from oncallnova.operator.deploy.driver import Plan, role_services
from oncallnova.settings import Settings
from oncallnova.stack.requirements import missing

GATEWAY = "gateway"


def _stack(*args: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "oncallnova", "stack", *args)


class NativeDriver:
    name = "native processes"
    clean_warning = (
        "This stops the native stack and deletes its logs and generated files "
        "(the database at DATABASE_URL is kept). Go on?"
    )
    # `deploy` prints the URLs itself, once every process is healthy.
    prints_urls = True

    def missing(self) -> str | None:
        try:
            settings = Settings()
        except ValidationError as exc:
            return f"the settings are not valid ({exc.error_count()} errors)"
        problem = missing(settings)
        return None if problem is None else f"the native topology cannot run: {problem}"

    def services(self) -> tuple[str, ...]:
        return (*role_services(), GATEWAY)

    def build(self) -> Plan:
        return Plan(())  # nothing to build: the stack runs this installation

    def deploy(self) -> Plan:
        return Plan((_stack("up", "--detach"),))

    def down(self) -> Plan:
        return Plan((_stack("down"),))

    def restart(self, service: str | None) -> Plan:
        return Plan((_stack("restart", *([service] if service else [])),))

    def clean(self) -> Plan:
        return Plan((_stack("down", "--purge"),))

    def logs(self, service: str | None, follow: bool) -> Plan:
        flags = ["--follow"] if follow else ["--lines", "200"]
        return Plan((_stack("logs", *([service] if service else []), *flags),))

    def scale(self, replicas: int) -> Plan:
        return Plan((_stack("scale", "--ingestion", str(replicas)),))
