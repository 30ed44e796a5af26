"""The stack's life: up (migrate, start every process, wait until healthy), down, scale
and rolling restarts. Every change is made under the state lock and recorded at once, so
`down` from another terminal always finds what runs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

from oncallnova.auth.secrets import load_or_create_secret
from oncallnova.core.db import Database
from oncallnova.deploy.probe import check_http
from oncallnova.runtime.migrate import upgrade
from oncallnova.runtime.roles import RoleName
from oncallnova.settings import Settings
from oncallnova.stack import topology
from oncallnova.stack.processes import StackError, health, stop, wait_healthy
from oncallnova.stack.state import GATEWAY, Proc, StackState, locked, running

Progress = Callable[[list[str]], None]
# How long Traefik takes to read a rewritten file, before a replica leaving it is stopped.
RELOAD_SECONDS = 1.5


def up(
    settings: Settings,
    counts: Mapping[RoleName, int],
    *,
    host: str,
    gateway_port: int,
    grpc_port: int,
    dashboard_port: int,
    timeout: float,
    progress: Progress = lambda _: None,
) -> StackState:
    """Migrates the database, starts every replica and the gateway, and waits until all
    are healthy and the gateway routes to them. If that fails, what started is stopped."""
    problem = topology.missing(settings)
    if problem is not None:
        raise StackError(f"cannot start a stack: {problem}")
    where = settings.data_dir / "stack"
    with locked(where):
        existing = StackState.load(where)
        if existing is not None and any(running(proc) for proc in existing.processes):
            raise StackError(
                "a stack is already running here (`oncallnova stack status`; "
                "`oncallnova stack down` stops it)"
            )
        state = StackState(where, host, gateway_port, grpc_port, dashboard_port)
        state.save()
        # Once, before the replicas: they would race to create the signing secret and
        # queue on the migration lock.
        load_or_create_secret(settings.jwt_secret, settings.data_dir)
        asyncio.run(_migrate(settings))
        env = topology.environment(state, settings)
        try:
            for role in topology.roles_in_order():
                for _ in range(counts.get(role, 1)):
                    state.processes.append(topology.replica(state, role, env))
                    state.save()
            state.processes.append(topology.start_gateway(state, settings, env))
            state.save()
            wait_healthy(state.processes, timeout, lambda: _routes(state), progress)
        except BaseException:
            stop(state.processes)
            state.forget()
            raise
    return state


async def _migrate(settings: Settings) -> None:
    db = Database(settings.resolved_database_url(), pool_size=1)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


def _routes(state: StackState) -> str | None:
    """Traefik routes to every replica, and the gateway answers `/health` through the
    web role, which asks incidents and oncall through the gateway's gRPC entry point:
    the whole chain is up."""
    return topology.routed(state) or check_http(f"{state.gateway_url}/health", 3.0)


def down(settings: Settings) -> list[Proc]:
    """Stops every process of the stack (front ends and the gateway first, the roles
    owning the data last) and forgets it. Returns what was stopped."""
    where = settings.data_dir / "stack"
    with locked(where):
        state = StackState.load(where)
        if state is None:
            return []
        order = [GATEWAY, "web", "ingestion", "metrics", "engine", "oncall", "incidents"]
        for role in order:
            stop(state.of_role(role))
        stopped = list(state.processes)
        state.forget()
    return stopped


def scale(
    settings: Settings, counts: Mapping[RoleName, int], *, timeout: float, progress: Progress
) -> StackState:
    """Starts or stops replicas until each role named has its count. New replicas join
    the gateway once healthy; leaving ones are taken out of it before they are stopped
    (gracefully: requests in flight finish)."""
    with locked(settings.data_dir / "stack"):
        state = _require(settings)
        env = topology.environment(state, settings)
        added: list[Proc] = []
        leaving: list[Proc] = []
        for role, wanted in counts.items():
            current = [proc for proc in state.of_role(role.value) if running(proc)]
            for _ in range(wanted - len(current)):
                added.append(topology.replica(state, role, env))
                state.processes.append(added[-1])
            leaving += current[wanted:] if wanted < len(current) else []
        state.save()
        try:
            wait_healthy(added, timeout, progress=progress)
            if added:  # in the gateway, and health-checked by it, before anyone leaves
                topology.gateway_file(state, settings)
                wait_healthy([], timeout, lambda: topology.routed(state), progress)
        except BaseException:
            _retire(state, settings, added)
            raise
        _retire(state, settings, leaving)
        return state


def restart(
    settings: Settings, target: str | None, *, timeout: float, progress: Progress
) -> list[str]:
    """Replaces each process named (a role, a replica's name, `gateway`; all without
    `target`) by a new one, one at a time, the new one healthy before the old one
    leaves, so the stack keeps serving. Returns the names of the new processes."""
    with locked(settings.data_dir / "stack"):
        state = _require(settings)
        chosen = [proc for proc in state.processes if target in (None, proc.role, proc.name)]
        if not chosen:
            raise StackError(f"nothing named {target!r} in the stack")
        env = topology.environment(state, settings)
        fresh: list[str] = []
        for old in chosen:
            if old.role == GATEWAY:
                stop([old])
                state.processes.remove(old)
                new = topology.start_gateway(state, settings, env)
            else:
                new = topology.replica(state, RoleName(old.role), env)
            state.processes.append(new)
            state.save()
            wait_healthy([new], timeout, progress=progress)
            topology.gateway_file(state, settings)
            wait_healthy([], timeout, lambda: topology.routed(state), progress)
            if old.role != GATEWAY:
                _retire(state, settings, [old])
            fresh.append(new.name)
        topology.gateway_file(state, settings)
        return fresh


def _retire(state: StackState, settings: Settings, procs: list[Proc]) -> None:
    """Out of the gateway first, then stopped, then forgotten."""
    if not procs:
        topology.gateway_file(state, settings)
        return
    names = {proc.name for proc in procs}
    topology.gateway_file(state, settings, leaving=names)
    if any(proc.role != RoleName.engine.value for proc in procs):
        time.sleep(RELOAD_SECONDS)
    stop(procs)
    state.processes = [proc for proc in state.processes if proc.name not in names]
    state.save()
    topology.gateway_file(state, settings)


def _require(settings: Settings) -> StackState:
    state = StackState.load(settings.data_dir / "stack")
    if state is None:
        raise StackError("no stack is running here (start one with `oncallnova stack up`)")
    return state


def report(state: StackState) -> list[dict[str, object]]:
    """Each process: its name, role, pid, ports, state, health and uptime."""
    now = time.time()
    rows = []
    for proc in state.processes:
        alive = running(proc)
        problem = health(proc) if alive else "not running"
        rows.append(
            {
                "name": proc.name,
                "role": proc.role,
                "pid": proc.pid,
                "http_port": proc.http_port,
                "grpc_port": proc.grpc_port,
                "state": "running" if alive else "exited",
                "health": problem or "healthy",
                "uptime_seconds": round(now - proc.started_at, 1) if alive else None,
                "log": proc.log,
            }
        )
    return rows
