"""The processes a benchmark starts, and cleaning them up whatever happens.

`Processes` owns every child (server, Alertmanager, wrk, py-spy): each one is started in
its own session, so a Ctrl-C in the terminal reaches only the benchmark, which then stops
its children one by one by pid. `OnCallNova` and `Alertmanager` are context managers
around one instance of each target; a PostgreSQL scratch database is dropped on exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
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
ALERTMANAGER_BIN = "/usr/bin/prometheus-alertmanager"
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
    return process_cpu_seconds(target.pid) + target.side_cpu_seconds()


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
    """One running server under test."""

    name: str
    url: str
    pid: int
    mode: str  # "native" or "alertmanager" (the wrk script's body format)
    key: str = "-"
    workdir: Path = field(default_factory=Path)
    db_name: str | None = None

    def side_cpu_seconds(self) -> float:
        """CPU used outside the server process on its behalf (PostgreSQL backends)."""
        if self.db_name is None:
            return 0.0
        return sum(process_cpu_seconds(pid) for pid in pids_matching(f" {self.db_name} "))


class OnCallNova:
    """`oncallnova serve` on a free port, with a fresh SQLite file or PostgreSQL database."""

    def __init__(
        self,
        procs: Processes,
        database: str,
        *,
        queue_limit: int | None = None,
        pythonpath: Path | None = None,
    ) -> None:
        self.procs = procs
        self.database = database
        self.queue_limit = queue_limit
        self.pythonpath = pythonpath
        self.workdir = Path(tempfile.mkdtemp(prefix=f"oncallnova-bench-{database}-"))
        self.db_name: str | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.stored: dict[str, int] = {}
        self.exit_code: int | None = None
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

    def __enter__(self) -> Target:
        try:
            return self._start()
        except BaseException:
            self._cleanup()
            raise

    def _start(self) -> Target:
        if self.database == "postgres":
            self.db_name = f"oncallnova_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            _psql(f'CREATE DATABASE "{self.db_name}"')
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
        key = json.loads(created.stdout.strip().splitlines()[-1])["integration_key"]
        port = free_port()
        log = self.workdir / "server.log"
        self.proc = self.procs.start(
            [str(VENV_BIN / "oncallnova"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=self.env(),
            log=log,
            cwd=self.workdir,
        )
        url = f"http://127.0.0.1:{port}"
        wait_ready(f"{url}/health", self.proc, log)
        return Target(
            name=self.database,
            url=url,
            pid=self.proc.pid,
            mode="native",
            key=key,
            workdir=self.workdir,
            db_name=self.db_name,
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        with shielded():
            try:
                if self.proc is not None:
                    self.exit_code = self.procs.stop(self.proc, grace=60)
                with contextlib.suppress(Exception):
                    self.stored = self._count()
                with contextlib.suppress(OSError):
                    self.log_problems = log_problems(self.workdir / "server.log")
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


class Alertmanager:
    """Prometheus Alertmanager on a free loopback port, a null receiver, no clustering."""

    CONFIG = 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n'

    def __init__(self, procs: Processes) -> None:
        self.procs = procs
        self.workdir = Path(tempfile.mkdtemp(prefix="oncallnova-bench-am-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def __enter__(self) -> Target:
        try:
            return self._start()
        except BaseException:
            self._cleanup()
            raise

    def _start(self) -> Target:
        config = self.workdir / "alertmanager.yml"
        config.write_text(self.CONFIG)
        port = free_port()
        log = self.workdir / "alertmanager.log"
        self.proc = self.procs.start(
            [
                ALERTMANAGER_BIN,
                f"--config.file={config}",
                f"--storage.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            log=log,
        )
        self.url = f"http://127.0.0.1:{port}"
        wait_ready(f"{self.url}/-/ready", self.proc, log)
        return Target(
            name="alertmanager",
            url=self.url,
            pid=self.proc.pid,
            mode="alertmanager",
            workdir=self.workdir,
        )

    def metrics(self) -> dict[str, float]:
        """Alerts received and the gauges of active and not yet processed alerts."""
        _, body = http_get(f"{self.url}/metrics", timeout=30)
        wanted = {
            'alertmanager_alerts_received_total{status="firing",version="v2"}': "received",
            'alertmanager_alerts{state="active"}': "active",
            'alertmanager_alerts{state="unprocessed"}': "unprocessed",
            'alertmanager_alerts_invalid_total{version="v2"}': "invalid",
        }
        out = {}
        for line in body.decode().splitlines():
            name, _, value = line.rpartition(" ")
            if name in wanted:
                out[wanted[name]] = float(value)
        return out

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        with shielded():
            try:
                if self.proc is not None:
                    self.procs.stop(self.proc, grace=15)
            finally:
                shutil.rmtree(self.workdir, ignore_errors=True)


def alertmanager_version() -> str:
    out = subprocess.run(
        [ALERTMANAGER_BIN, "--version"], capture_output=True, text=True, check=False
    )
    text = (out.stdout + out.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def ensure_alertmanager() -> None:
    """Install the Debian package if the binary is missing (needs root and network)."""
    if Path(ALERTMANAGER_BIN).exists():
        return
    print("installing prometheus-alertmanager (apt-get)", file=sys.stderr)
    subprocess.run(["apt-get", "update"], check=True)
    subprocess.run(["apt-get", "install", "-y", "prometheus-alertmanager"], check=True)


def postgres_version() -> str:
    try:
        return _psql("SHOW server_version").strip()
    except (RuntimeError, OSError):
        return "unavailable"


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
