"""What `oncallnova stack` started, kept in the data directory so that `down`, `status`,
`scale`, `restart` and `logs` find the processes from any terminal.

The file is `<ONCALLNOVA_DATA_DIR>/stack/state.json`, changed only under an exclusive
lock on `stack/lock`. A process counts as ours only while its command line is still the
one recorded: a pid reused by something else after a reboot or a crash is never signalled.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

GATEWAY = "gateway"


@dataclass
class Proc:
    """One process of the stack: a replica of a role, or the gateway (Traefik)."""

    name: str  # "ingestion-2", "traefik"
    role: str  # a role of runtime/roles.py, or "gateway"
    pid: int
    argv: list[str]
    log: str
    http_port: int | None = None
    grpc_port: int | None = None
    started_at: float = field(default_factory=time.time)

    @property
    def url(self) -> str | None:
        return None if self.http_port is None else f"http://127.0.0.1:{self.http_port}"


@dataclass
class StackState:
    directory: Path
    host: str
    gateway_port: int
    grpc_port: int
    dashboard_port: int
    supervisor: int | None = None  # the foreground `stack up`, if it is still waiting
    processes: list[Proc] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.directory / "state.json"

    @property
    def gateway_url(self) -> str:
        return f"http://{_client_host(self.host)}:{self.gateway_port}"

    @property
    def dashboard_url(self) -> str:
        return f"http://{_client_host(self.host)}:{self.dashboard_port}/dashboard/"

    def of_role(self, role: str) -> list[Proc]:
        return [proc for proc in self.processes if proc.role == role]

    def save(self) -> None:
        data = asdict(self)
        data["directory"] = str(self.directory)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=2), encoding="utf-8")
        temporary.replace(self.path)

    @classmethod
    def load(cls, directory: Path) -> StackState | None:
        path = directory / "state.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        data["directory"] = directory
        data["processes"] = [Proc(**proc) for proc in data.get("processes", [])]
        return cls(**data)

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)


def _client_host(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """One change to the stack at a time, whichever terminal it comes from."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def running(proc: Proc) -> bool:
    """Whether the process is alive and still the one started (not a reused pid)."""
    try:
        os.kill(proc.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process now
    stat = Path(f"/proc/{proc.pid}/stat")
    if not stat.exists():
        return True  # no /proc here: the signal check is all there is
    try:
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, IndexError):
        return False
    if state in ("Z", "X"):
        return False  # exited, not yet reaped
    return [part.decode(errors="replace") for part in cmdline if part] == proc.argv


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time the process has used so far (from /proc), if known."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks
