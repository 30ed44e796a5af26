"""The split installation as real processes on one PostgreSQL database: every role of
`runtime/roles.py` started with `oncallnova serve --role ROLE` on free ports."""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.system.servers import Server, free_port, server_env

INTERNAL_TOKEN = "internal-token-for-split-tests-0123456789"


@dataclass
class Split:
    database_url: str
    logs: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    servers: dict[str, Server] = field(default_factory=dict)
    engines: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.grpc = {"incidents": free_port(), "oncall": free_port(), "ingestion": free_port()}
        self.env = {
            "DATABASE_URL": self.database_url,
            "ONCALLNOVA_DATA_DIR": str(self.logs),
            "ONCALLNOVA_INTERNAL_TOKEN": INTERNAL_TOKEN,
            "INCIDENTS_GRPC_ADDR": f"127.0.0.1:{self.grpc['incidents']}",
            "ONCALL_GRPC_ADDR": f"127.0.0.1:{self.grpc['oncall']}",
            "RATE_LIMIT_ENABLED": "false",
            "ENGINE_INTERVAL_SECONDS": "0.2",
            **self.extra_env,
        }

    def start(self) -> Split:
        """The roles that own the data first (they migrate), then the front ends. If one
        does not come up, those started are stopped."""
        try:
            for role in ("incidents", "oncall"):
                self._serve(role, "--grpc-port", str(self.grpc[role]))
            self._serve("ingestion", "--grpc-port", str(self.grpc["ingestion"]))
            self._serve("web")
            self._serve("metrics")
            self.start_engine()
        except BaseException:
            self.stop()
            raise
        return self

    def _serve(self, role: str, *args: str) -> Server:
        server = Server(
            self.env,
            self.logs / f"{role}.log",
            "--role",
            role,
            *args,
            signs_in=role in ("oncall", "web"),
        )
        self.servers[role] = server
        return server.start(timeout=60)

    def start_engine(self) -> subprocess.Popen[bytes]:
        log = self.logs / f"engine-{len(self.engines)}.log"
        with log.open("ab") as out:
            engine = subprocess.Popen(
                [sys.executable, "-m", "oncallnova", "serve", "--role", "engine"],
                env=server_env(self.env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.engines.append(engine)
        return engine

    def url(self, role: str) -> str:
        return self.servers[role].url

    def stop(self) -> None:
        for engine in self.engines:
            if engine.poll() is None:
                engine.send_signal(signal.SIGTERM)
        for role in ("web", "ingestion", "metrics", "oncall", "incidents"):
            if role in self.servers:
                self.servers[role].stop()
        for engine in self.engines:
            try:
                engine.wait(timeout=30)
            except subprocess.TimeoutExpired:
                engine.kill()
