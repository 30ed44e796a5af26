"""The processes a benchmark starts, and cleaning them up whatever happens.

`Processes` owns every child (server, Alertmanager, wrk, py-spy): each one is started in
its own session, so a Ctrl-C in the terminal reaches only the benchmark, which then stops
its children one by one by pid. `OnCallNova` and `Alertmanager` are context managers
around one instance of each target (`split.py` adds the split roles,
`alertmanager.py` the peer); a PostgreSQL scratch database is dropped on exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-At"]
PG_URL = "postgresql://postgres@127.0.0.1:5432/{db}"
_CLK_TCK = os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Ignore SIGINT/SIGTERM while cleaning up: a second Ctrl-C must not leave a server
    or a scratch database behind. Every wait inside is bounded."""
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Processes:
    """Every child process of the benchmark, stopped by pid on `stop_all`."""

    def __init__(self) -> None:
        self._running: list[subprocess.Popen[bytes]] = []

    def start(
        self,
        cmd: list[str],
        *,
        env: dict[str, str] | None = None,
        log: Path | None = None,
        stdout: int | IO[bytes] | None = None,
        cwd: Path = ROOT,
    ) -> subprocess.Popen[bytes]:
        out: Any = stdout
        if log is not None:
            out = log.open("ab")
        try:
            proc = subprocess.Popen(
                cmd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT if log is not None else None,
                start_new_session=True,
                cwd=cwd,
            )
        finally:
            if log is not None:
                out.close()
        self._running.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], *, grace: float = 30.0) -> int | None:
        """SIGTERM, then SIGKILL after `grace` seconds; returns the exit code."""
        try:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(grace)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
        finally:
            if proc in self._running:
                self._running.remove(proc)
        return proc.returncode

    def forget(self, proc: subprocess.Popen[bytes]) -> None:
        if proc in self._running:
            self._running.remove(proc)

    def stop_all(self) -> None:
        with shielded():
            for proc in list(reversed(self._running)):
                with contextlib.suppress(Exception):
                    self.stop(proc, grace=10)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {proc.returncode}\n{tail(log)}")
        with contextlib.suppress(OSError):
            if http_get(url, timeout=2)[0] == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout}s\n{tail(log)}")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def log_problems(path: Path) -> dict[str, int]:
    """ERROR/WARNING lines and the exception each traceback ends with, counted."""
    found: dict[str, int] = {}
    lines = path.read_text(errors="replace").splitlines()
    for number, line in enumerate(lines):
        if " ERROR " in line or line.startswith("ERROR:"):
            key = "ERROR lines"
        elif " WARNING " in line or line.startswith("WARNING:"):
            key = "WARNING lines"
        elif line[:1].isalpha() and number and lines[number - 1].startswith("  "):
            key = "exception " + line.split(":")[0][:120]
        else:
            continue
        found[key] = found.get(key, 0) + 1
    return found


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, all threads (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / _CLK_TCK, total / _CLK_TCK


def wait_quiet(target: Target, limit_pct: float, max_wait: float) -> float:
    """Waits until processes other than the target (and its database backends) use less
    than `limit_pct` % of one core over a second; returns the last measurement."""
    deadline = time.monotonic() + max_wait
    while True:
        own0, (busy0, _), t0 = _own_cpu(target), machine_cpu(), time.monotonic()
        time.sleep(1.0)
        own1, (busy1, _), t1 = _own_cpu(target), machine_cpu(), time.monotonic()
        other = max(0.0, 100 * ((busy1 - busy0) - (own1 - own0)) / (t1 - t0))
        if other <= limit_pct or time.monotonic() >= deadline:
            return other


def _own_cpu(target: Target) -> float:
    return sum(target.cpu_by_process().values()) + target.side_cpu_seconds()


def pids_matching(needle: str) -> list[int]:
    """Pids whose command line contains `needle` (read-only; used to find DB backends)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if needle.encode() in cmdline:
            found.append(int(entry.name))
    return found


@dataclass
class Target:
    """One running target under test: one server process, or several (the split roles).

    `processes` names every process of the target (label -> pid), `pid` is the one that
    answers HTTP alone (the all-in-one), and `urls` are the HTTP front ends the load is
    spread over (the ingestion replicas), `url` the first of them."""

    name: str
    url: str
    pid: int
    mode: str  # "native" or "alertmanager" (the wrk script's body format)
    key: str = "-"
    workdir: Path = field(default_factory=Path)
    db_name: str | None = None
    processes: dict[str, int] = field(default_factory=dict)
    urls: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.processes = self.processes or {"server": self.pid}
        self.urls = self.urls or (self.url,)

    def cpu_by_process(self) -> dict[str, float]:
        """User + system CPU seconds of each process of the target so far."""
        return {label: process_cpu_seconds(pid) for label, pid in self.processes.items()}

    def side_cpu_seconds(self) -> float:
        """CPU used outside the server process on its behalf (PostgreSQL backends)."""
        if self.db_name is None:
            return 0.0
        return sum(process_cpu_seconds(pid) for pid in pids_matching(f" {self.db_name} "))


class Instance:
    """A running target as a context manager: `_start` it, and `_cleanup` whatever
    happens (also when the start fails half-way)."""

    def __enter__(self) -> Target:
        try:
            return self._start()
        except BaseException:
            self._cleanup()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._cleanup()

    def _start(self) -> Target:
        raise NotImplementedError

    def _cleanup(self) -> None:
        raise NotImplementedError


class OnCallNova(Instance):
    """`oncallnova serve` on a free port, with a fresh SQLite file or PostgreSQL database.

    After exit, `stored` holds what the database kept, `exit_codes` and `log_problems`
    what each server process (labelled as in `Target.processes`) ended with and logged."""

    def __init__(
        self,
        procs: Processes,
        database: str,
        *,
        queue_limit: int | None = None,
        pythonpath: Path | None = None,
    ) -> None:
        self.procs = procs
        self.name = database
        self.database = database
        self.queue_limit = queue_limit
        self.pythonpath = pythonpath
        self.workdir = Path(tempfile.mkdtemp(prefix=f"oncallnova-bench-{database}-"))
        self.db_name: str | None = None
        self.servers: dict[str, subprocess.Popen[bytes]] = {}
        self.stored: dict[str, int] = {}
        self.exit_codes: dict[str, int | None] = {}
        self.log_problems: dict[str, int] = {}

    def env(self) -> dict[str, str]:
        """Only what we set: no inherited DATABASE_URL; the server runs in the temporary
        directory, so a developer's `.env` in the project root is not read either."""
        env = dict(os.environ)
        env["DATABASE_URL"] = ""
        env["ONCALLNOVA_DATA_DIR"] = str(self.workdir / "data")
        env["RATE_LIMIT_ENABLED"] = "false"
        env["LOG_LEVEL"] = "warning"
        if self.queue_limit is not None:
            env["INGEST_QUEUE_LIMIT"] = str(self.queue_limit)
        if self.db_name is not None:
            env["DATABASE_URL"] = PG_URL.format(db=self.db_name)
        if self.pythonpath is not None:
            # Runs that code instead of the editable install's src/ (PYTHONPATH comes first).
            env["PYTHONPATH"] = str(self.pythonpath)
        return env

    def _start(self) -> Target:
        if self.database == "postgres":
            self.db_name = f"oncallnova_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            _psql(f'CREATE DATABASE "{self.db_name}"')
        return self._serve(self._create_service())

    def _create_service(self) -> str:
        """Migrates the database and creates the service; returns its integration key."""
        created = subprocess.run(
            [str(VENV_BIN / "oncallnova"), "service", "create", "--name", "bench", "--json"],
            env=self.env(),
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if created.returncode != 0:
            raise RuntimeError(f"service create failed:\n{created.stdout}\n{created.stderr}")
        return str(json.loads(created.stdout.strip().splitlines()[-1])["integration_key"])

    def _serve(self, key: str) -> Target:
        url, proc = self.start_server("server")
        return Target(
            name=self.name,
            url=url,
            pid=proc.pid,
            mode="native",
            key=key,
            workdir=self.workdir,
            db_name=self.db_name,
        )

    def start_server(self, label: str, *args: str) -> tuple[str, subprocess.Popen[bytes]]:
        """`oncallnova serve ARGS` on a free HTTP port, logging to `LABEL.log`; returns its
        URL once `/health` answers 200."""
        port = free_port()
        log = self.workdir / f"{label}.log"
        serve = [str(VENV_BIN / "oncallnova"), "serve", "--host", "127.0.0.1"]
        proc = self.procs.start(
            [*serve, "--port", str(port), *args],
            env=self.env(),
            log=log,
            cwd=self.workdir,
        )
        self.servers[label] = proc
        url = f"http://127.0.0.1:{port}"
        wait_ready(f"{url}/health", proc, log)
        return url, proc

    def _cleanup(self) -> None:
        """Stops the servers in the reverse order of their start (front ends first, so
        their requests in flight still reach the process that stores them), then counts
        what was stored and reads the logs."""
        with shielded():
            try:
                for label, proc in reversed(self.servers.items()):
                    self.exit_codes[label] = self.procs.stop(proc, grace=60)
                with contextlib.suppress(Exception):
                    self.stored = self._count()
                for label in self.servers:
                    with contextlib.suppress(OSError):
                        found = log_problems(self.workdir / f"{label}.log")
                        prefix = "" if len(self.servers) == 1 else f"{label}: "
                        self.log_problems.update({prefix + k: v for k, v in found.items()})
            finally:
                try:
                    if self.db_name is not None:
                        drop_database(self.db_name)
                finally:
                    shutil.rmtree(self.workdir, ignore_errors=True)

    def _count(self) -> dict[str, int]:
        """What the database holds: rows, repeat counts, distinct fingerprints, incidents."""
        query = (
            "SELECT (SELECT count(*) FROM alerts), (SELECT coalesce(sum(count), 0) FROM alerts),"
            " (SELECT count(DISTINCT fingerprint) FROM alerts), (SELECT count(*) FROM incidents),"
            " (SELECT count(*) FROM incident_timeline)"
        )
        if self.db_name is not None:
            out = _psql(query, database=self.db_name)
            values = [int(v) for v in out.strip().split("|")]
        else:
            import sqlite3

            path = self.workdir / "data" / "oncallnova.db"
            with contextlib.closing(sqlite3.connect(path)) as conn:
                values = list(conn.execute(query).fetchone())
        names = ("alerts", "sum_count", "distinct_fingerprints", "incidents", "timeline")
        return dict(zip(names, values, strict=True))


def postgres_version() -> str:
    try:
        return _psql("SHOW server_version").strip()
    except (RuntimeError, OSError):
        return "unavailable"


def committed_transactions(name: str) -> int:
    """Transactions committed in a database so far. PostgreSQL's statistics lag: a busy
    backend reports them about once a second."""
    return int(_psql(f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{name}'"))


def analyze(name: str) -> None:
    _psql("ANALYZE", database=name)


def drop_database(name: str) -> None:
    _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_stale_databases() -> list[str]:
    """Drop scratch databases of earlier runs whose benchmark process is gone (SIGKILL)."""
    dropped = []
    names = _psql("SELECT datname FROM pg_database WHERE datname LIKE 'oncallnova_bench_%'")
    for name in names.split():
        parts = name.split("_")
        if len(parts) != 4 or not parts[2].isdigit():
            continue
        try:
            os.kill(int(parts[2]), 0)
        except ProcessLookupError:
            drop_database(name)
            dropped.append(name)
        except PermissionError:
            continue
    return dropped


def _psql(sql: str, *, database: str = "test") -> str:
    cmd = [*PSQL, "-d", database, "-c", sql]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"psql failed: {sql}\n{out.stderr}")
    return out.stdout
