"""OnCallNova split into roles, as the benchmark starts it: one `incidents` process (the
ingestion writer, on a scratch PostgreSQL database) behind N `ingestion` replicas, each
a separate process on its own HTTP and gRPC ports.

The replicas check the integration key with `incidents` and hand each request's alerts
to it in one `Ingest` gRPC call, answering 202 once it returned (stored). The `oncall`
role is not started: ingestion never calls it (its channel opens on the first call), so
ONCALL_GRPC_ADDR points at a free port nobody listens on.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from targets import OnCallNova, Processes, Target, free_port

PREFIX = "split-"


def replicas_of(target: str) -> int | None:
    """`split-2` -> 2; None for a target that is not the split."""
    if not target.startswith(PREFIX) or not target[len(PREFIX) :].isdigit():
        return None
    return int(target[len(PREFIX) :])


class SplitOnCallNova(OnCallNova):
    """`incidents` + `replicas` x `ingestion`, on PostgreSQL."""

    def __init__(
        self,
        procs: Processes,
        replicas: int,
        *,
        queue_limit: int | None = None,
        pythonpath: Path | None = None,
    ) -> None:
        super().__init__(procs, "postgres", queue_limit=queue_limit, pythonpath=pythonpath)
        self.name = f"{PREFIX}{replicas}"
        self.replicas = replicas
        self.incidents_grpc = free_port()
        # Every role must agree on these; they live only as long as this instance.
        self.token = secrets.token_hex(24)
        self.jwt_secret = secrets.token_hex(32)
        self.unused_port = free_port()

    def env(self) -> dict[str, str]:
        env = super().env()
        env["ONCALLNOVA_INTERNAL_TOKEN"] = self.token
        env["JWT_SECRET"] = self.jwt_secret
        env["INCIDENTS_GRPC_ADDR"] = f"127.0.0.1:{self.incidents_grpc}"
        env["ONCALL_GRPC_ADDR"] = f"127.0.0.1:{self.unused_port}"
        return env

    def _serve(self, key: str) -> Target:
        """`incidents` first (it owns the database), then the replicas, which answer
        `/health` 200 only once `incidents` answers them."""
        grpc = ("--grpc-port", str(self.incidents_grpc))
        _, incidents = self.start_server("incidents", "--role", "incidents", *grpc)
        urls = []
        for n in range(1, self.replicas + 1):
            url, _ = self.start_server(
                f"ingestion-{n}", "--role", "ingestion", "--grpc-port", str(free_port())
            )
            urls.append(url)
        return Target(
            name=self.name,
            url=urls[0],
            pid=incidents.pid,
            mode="native",
            key=key,
            workdir=self.workdir,
            db_name=self.db_name,
            processes={label: proc.pid for label, proc in self.servers.items()},
            urls=tuple(urls),
        )
