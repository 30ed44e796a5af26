"""What a stack runs: every role of the split as processes on this machine (each replica on
ports of its own), Traefik in front of them, and the environment they share.

The roles reach each other through the gateway's gRPC entry point (balanced per call,
as in Compose); Traefik's file configuration lists every replica and is rewritten when
replicas come and go (Traefik watches the file, so no restart is needed).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import yaml

from oncallnova.deploy import gateway
from oncallnova.deploy.commands import LOOPBACK, serve_args
from oncallnova.runtime.roles import ROLES, SPLIT_ROLES, RoleName
from oncallnova.settings import Settings
from oncallnova.stack.processes import StackError, free_port, spawn
from oncallnova.stack.requirements import find_traefik, missing
from oncallnova.stack.state import GATEWAY, Proc, StackState, running

# The roles whose replica count the operator chooses; `metrics` runs once.
SCALABLE = (RoleName.ingestion, RoleName.incidents, RoleName.oncall, RoleName.web, RoleName.engine)
TRAEFIK = "traefik"


def internal_token(directory: Path) -> str:
    """ONCALLNOVA_INTERNAL_TOKEN when set, else one generated once and kept (0600)."""
    configured = os.environ.get("ONCALLNOVA_INTERNAL_TOKEN", "").strip()
    if configured:
        return configured
    path = directory / "internal_token"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def environment(state: StackState, settings: Settings) -> dict[str, str]:
    """This environment, plus what the roles of one stack must agree on."""
    env = dict(os.environ)
    proxies = [part.strip() for part in settings.trusted_proxies.split(",") if part.strip()]
    if not any(part in ("127.0.0.1", "127.0.0.1/32") for part in proxies):
        proxies.append("127.0.0.1/32")  # Traefik, on this machine, forwards client addresses
    grpc = f"{LOOPBACK}:{state.grpc_port}"
    env.update(
        {
            "ONCALLNOVA_DATA_DIR": str(settings.data_dir.resolve()),
            "ONCALLNOVA_INTERNAL_TOKEN": internal_token(state.directory),
            "INCIDENTS_GRPC_ADDR": grpc,
            "ONCALL_GRPC_ADDR": grpc,
            "TRUSTED_PROXIES": ",".join(proxies),
        }
    )
    env.setdefault("ONCALLNOVA_BASE_URL", state.gateway_url)
    return env


def replica(state: StackState, role: RoleName, env: Mapping[str, str]) -> Proc:
    """Starts one more replica of `role` on free ports."""
    spec = ROLES[role]
    taken = [int(proc.name.rsplit("-", 1)[1]) for proc in state.of_role(role.value)]
    name = f"{role.value}-{max(taken, default=0) + 1}"
    http_port = free_port() if spec.http_port is not None else None
    grpc_port = free_port() if spec.grpc_port is not None else None
    args = serve_args(role, host=LOOPBACK, http_port=http_port, grpc_port=grpc_port)
    argv = [sys.executable, "-m", "oncallnova", *args]
    logs = state.directory / "logs"
    return spawn(name, role.value, argv, env, logs, http_port=http_port, grpc_port=grpc_port)


def gateway_file(state: StackState, settings: Settings, leaving: set[str] = frozenset()) -> Path:
    """Writes Traefik's dynamic configuration: every replica but those `leaving`."""
    http: dict[RoleName, list[str]] = {}
    grpc: dict[RoleName, list[str]] = {}
    for proc in state.processes:
        if proc.role == GATEWAY or proc.name in leaving:
            continue
        role = RoleName(proc.role)
        if proc.http_port is not None:
            http.setdefault(role, []).append(f"{LOOPBACK}:{proc.http_port}")
        if proc.grpc_port is not None:
            grpc.setdefault(role, []).append(f"{LOOPBACK}:{proc.grpc_port}")
    for role in gateway.gateway_roles():
        if not http.get(role):
            raise StackError(f"the gateway needs at least one {role.value} replica")
    config = gateway.file_config(http, grpc, limits=gateway.Limits.of(settings))
    path = state.directory / "traefik" / "dynamic.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    temporary.replace(path)
    return path


def routed(state: StackState) -> str | None:
    """None once Traefik routes to every replica of the stack (its API reports each
    server UP: health-checked, not only listed); else what it does not route to yet."""
    expected = set()
    http_roles = {role.value for role in gateway.gateway_roles()}
    grpc_roles = {role.value for role in gateway.grpc_roles()}
    for proc in state.processes:
        if not running(proc):
            continue  # a replica that died is routed around, not waited for
        if proc.role in http_roles and proc.http_port is not None:
            expected.add(f"http://{LOOPBACK}:{proc.http_port}")
        if proc.role in grpc_roles and proc.grpc_port is not None:
            expected.add(f"h2c://{LOOPBACK}:{proc.grpc_port}")
    api = f"http://{LOOPBACK}:{state.dashboard_port}/api/http/services"
    try:
        with urllib.request.urlopen(api, timeout=3) as answer:
            services = json.loads(answer.read())
    except (OSError, ValueError) as exc:
        return f"Traefik's API does not answer: {exc}"
    up = {
        url
        for service in services
        for url, status in (service.get("serverStatus") or {}).items()
        if status == "UP"
    }
    waiting = sorted(expected - up)
    return f"the gateway does not route to {', '.join(waiting)} yet" if waiting else None


def start_gateway(state: StackState, settings: Settings, env: Mapping[str, str]) -> Proc:
    traefik = find_traefik()
    if traefik is None:
        raise StackError(missing(settings) or "Traefik is missing")
    dynamic = gateway_file(state, settings)
    static = gateway.static_config(
        http_port=state.gateway_port,
        grpc_port=state.grpc_port,
        dashboard_port=state.dashboard_port,
        providers=gateway.file_provider(str(dynamic)),
        host=state.host,
    )
    path = dynamic.parent / "traefik.yml"
    path.write_text(yaml.safe_dump(static, sort_keys=False), encoding="utf-8")
    argv = [traefik, f"--configFile={path}"]
    logs = state.directory / "logs"
    proc = spawn(TRAEFIK, GATEWAY, argv, env, logs, http_port=state.dashboard_port)
    return proc


def roles_in_order() -> tuple[RoleName, ...]:
    """The roles of a stack: those owning the data first, as `SPLIT_ROLES` orders them."""
    return SPLIT_ROLES
