"""What `status` and `health` look at: the server's health endpoints over HTTP, the
processes of a native stack started from this data directory (`oncallnova stack`), and
the infrastructure named by the same variables the server reads (DATABASE_URL,
REDIS_URL, SMTP_HOST/SMTP_PORT, PROMETHEUS_URL) where they are set in this environment."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import smtplib
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import ValidationError

from oncallnova.settings import Settings
from oncallnova.stack.requirements import state_file

State = Literal["up", "down"]
PROBE_TIMEOUT = 3.0


@dataclass
class Probe:
    name: str
    kind: Literal["service", "process", "infrastructure"]
    address: str
    state: State
    health: str  # what the check saw, in a few words
    version: str | None = None
    uptime_seconds: float | None = None
    replicas: int | None = None  # None: not known from here

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _elapsed_since(epoch: float) -> float:
    return max(0.0, time.time() - epoch)


def server(name: str, url: str) -> Probe:
    """GET /health of one OnCallNova process (or the gateway in front of several)."""
    try:
        response = httpx.get(f"{url}/health", timeout=PROBE_TIMEOUT)
    except httpx.HTTPError as exc:
        return Probe(name, "service", url, "down", f"no answer ({type(exc).__name__})")
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200:
        why = body.get("database") or f"HTTP {response.status_code}"
        return Probe(name, "service", url, "down", f"unhealthy: {why}", body.get("version"))
    return Probe(
        name,
        "service",
        url,
        "up",
        "ok",
        body.get("version"),
        body.get("uptime_seconds"),
        replicas=1,
    )


def database_seen_by(url: str) -> Probe:
    """The database as the server sees it (its /health checks it on every call)."""
    probe = Probe("database (seen by the server)", "infrastructure", url, "down", "")
    try:
        response = httpx.get(f"{url}/health", timeout=PROBE_TIMEOUT)
        seen = response.json().get("database", f"HTTP {response.status_code}")
    except (httpx.HTTPError, ValueError) as exc:
        probe.health = f"unknown: the server did not answer ({type(exc).__name__})"
        return probe
    probe.state = "up" if seen == "ok" else "down"
    probe.health = str(seen)
    return probe


def metrics(url: str) -> Probe:
    token = os.environ.get("METRICS_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    probe = Probe("metrics endpoint", "service", f"{url}/metrics", "down", "")
    try:
        response = httpx.get(f"{url}/metrics", headers=headers, timeout=PROBE_TIMEOUT)
    except httpx.HTTPError as exc:
        probe.health = f"no answer ({type(exc).__name__})"
        return probe
    if response.status_code == 401:
        probe.health = "needs METRICS_TOKEN (set it in this environment)"
    elif response.status_code == 200 and "oncall_" in response.text:
        probe.state, probe.health = "up", "ok"
    else:
        probe.health = f"HTTP {response.status_code}"
    return probe


def postgres(dsn: str) -> Probe:
    import asyncpg

    parts = urlsplit(dsn)
    probe = Probe(
        "PostgreSQL", "infrastructure", f"{parts.hostname}:{parts.port or 5432}", "down", ""
    )
    plain = dsn.replace("postgresql+asyncpg://", "postgresql://", 1)

    async def ask() -> tuple[str, float]:
        conn = await asyncpg.connect(plain, timeout=PROBE_TIMEOUT)
        try:
            version = await conn.fetchval("SHOW server_version")
            started = await conn.fetchval("SELECT extract(epoch FROM pg_postmaster_start_time())")
            return str(version), _elapsed_since(float(started))
        finally:
            await conn.close()

    try:
        probe.version, probe.uptime_seconds = asyncio.run(ask())
    except Exception as exc:  # any failure to connect or query is "down", with its reason
        probe.health = f"{type(exc).__name__}: {str(exc)[:80]}"
        return probe
    probe.state, probe.health, probe.replicas = "up", "ok", 1
    return probe


def redis(url: str) -> Probe:
    import redis as redis_client

    parts = urlsplit(url)
    probe = Probe("Redis", "infrastructure", f"{parts.hostname}:{parts.port or 6379}", "down", "")
    try:
        conn = redis_client.Redis.from_url(
            url, socket_timeout=PROBE_TIMEOUT, socket_connect_timeout=PROBE_TIMEOUT
        )
        try:
            conn.ping()
            info = conn.info("server")
        finally:
            conn.close()
    except redis_client.RedisError as exc:
        probe.health = f"{type(exc).__name__}: {str(exc)[:80]}"
        return probe
    probe.state, probe.health, probe.replicas = "up", "PING ok", 1
    probe.version = str(info.get("redis_version"))
    probe.uptime_seconds = float(info.get("uptime_in_seconds", 0))
    return probe


def smtp(host: str, port: int) -> Probe:
    probe = Probe("SMTP", "infrastructure", f"{host}:{port}", "down", "")
    try:
        with smtplib.SMTP(host, port, timeout=PROBE_TIMEOUT) as conn:
            code, _ = conn.noop()
    except (OSError, smtplib.SMTPException) as exc:
        probe.health = f"{type(exc).__name__}: {str(exc)[:80]}"
        return probe
    probe.state = "up" if code == 250 else "down"
    probe.health = "NOOP ok" if code == 250 else f"NOOP answered {code}"
    probe.replicas = 1
    return probe


def prometheus(url: str) -> Probe:
    base = url.rstrip("/")
    probe = Probe("Prometheus", "infrastructure", base, "down", "")
    try:
        healthy = httpx.get(f"{base}/-/healthy", timeout=PROBE_TIMEOUT)
        if healthy.status_code != 200:
            probe.health = f"/-/healthy answered {healthy.status_code}"
            return probe
        build = httpx.get(f"{base}/api/v1/status/buildinfo", timeout=PROBE_TIMEOUT).json()
        runtime = httpx.get(f"{base}/api/v1/status/runtimeinfo", timeout=PROBE_TIMEOUT).json()
    except (httpx.HTTPError, ValueError) as exc:
        probe.health = f"no answer ({type(exc).__name__})"
        return probe
    probe.state, probe.health, probe.replicas = "up", "healthy", 1
    probe.version = build.get("data", {}).get("version")
    started = runtime.get("data", {}).get("startTime")
    if started:
        from datetime import datetime

        probe.uptime_seconds = _elapsed_since(datetime.fromisoformat(started).timestamp())
    return probe


def infrastructure(environ: dict[str, str] | None = None) -> list[Callable[[], Probe]]:
    """The infrastructure checks this environment configures, not yet run."""
    env = dict(os.environ) if environ is None else environ
    checks: list[Callable[[], Probe]] = []
    dsn = env.get("DATABASE_URL", "")
    if dsn.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
        checks.append(functools.partial(postgres, dsn))
    if url := env.get("REDIS_URL"):
        checks.append(functools.partial(redis, url))
    if host := env.get("SMTP_HOST"):
        checks.append(functools.partial(smtp, host, int(env.get("SMTP_PORT") or 25)))
    if prom := env.get("PROMETHEUS_URL"):
        checks.append(functools.partial(prometheus, prom))
    return checks


def native_stack() -> list[Probe]:
    """One line per role of the native stack started from this data directory, if one
    is: its replicas, how many are healthy, since when (from `oncallnova stack status`)."""
    try:
        settings = Settings()
    except ValidationError:
        return []
    if not state_file(settings).exists():
        return []
    done = subprocess.run(
        [sys.executable, "-m", "oncallnova", "stack", "status", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    try:
        rows = json.loads(done.stdout)["processes"]
    except (ValueError, KeyError):
        return []
    roles: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        roles.setdefault(row["role"], []).append(row)
    found = []
    for role, replicas in roles.items():
        healthy = sum(1 for row in replicas if row["health"] == "healthy")
        uptimes = [row["uptime_seconds"] for row in replicas if row["uptime_seconds"] is not None]
        found.append(
            Probe(
                f"{role} (stack)",
                "process",
                "pid " + ", ".join(str(row["pid"]) for row in replicas),
                "up" if healthy == len(replicas) else "down",
                f"{healthy}/{len(replicas)} healthy",
                uptime_seconds=max(uptimes, default=None),
                replicas=len(replicas),
            )
        )
    return found


def all_probes(url: str, services: dict[str, str]) -> list[Callable[[], Probe]]:
    """Every check, in the order they are shown: the target, other named services, the
    metrics endpoint, the database as the server sees it, the processes of a native
    stack, then the infrastructure."""
    checks: list[Callable[[], Probe]] = [functools.partial(server, "oncallnova", url)]
    checks += [functools.partial(server, name, address) for name, address in services.items()]
    checks.append(functools.partial(metrics, url))
    checks.append(functools.partial(database_seen_by, url))
    checks += [functools.partial(_seen, probe) for probe in native_stack()]
    return checks + infrastructure()


def _seen(probe: Probe) -> Probe:
    return probe
