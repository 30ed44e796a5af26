"""`oncallnova stack up|down|status|scale|restart|logs`: the split topology as processes on
this machine, behind Traefik, on DATABASE_URL (PostgreSQL) and REDIS_URL.

The operations (`stack/control.py`) are imported inside each command: they load the
database layer, which the rest of the command line should not pay for at start-up."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from oncallnova.runtime.roles import RoleName
from oncallnova.settings import Settings
from oncallnova.stack.processes import StackError, reap
from oncallnova.stack.state import StackState, running
from oncallnova.stack.tail import follow, last_lines

stack_app = typer.Typer(
    help="Run the split topology on this machine: every role as processes behind Traefik.",
    no_args_is_help=True,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

Count = Annotated[int, typer.Option(min=1, max=50)]
MaybeCount = Annotated[int | None, typer.Option(min=0, max=50)]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
Timeout = Annotated[
    float, typer.Option("--timeout", help="Seconds to wait for new processes to be healthy.")
]


def _settings() -> Settings:
    from oncallnova.cli import load_settings

    return load_settings()


def _fail(exc: StackError) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
    return typer.Exit(1)


def _waiting(names: list[str]) -> None:
    if err.is_terminal:
        err.print(f"[dim]waiting for: {', '.join(names)}[/dim]", end="\r")


@stack_app.command("up")
def up(
    ingestion: Count = 1,
    incidents: Count = 1,
    oncall: Count = 1,
    web: Count = 1,
    engine: Count = 1,
    gateway_port: Annotated[
        int, typer.Option(envvar="ONCALLNOVA_GATEWAY_PORT", help="The gateway (Traefik) port.")
    ] = 8000,
    grpc_port: Annotated[
        int,
        typer.Option(
            envvar="ONCALLNOVA_GATEWAY_GRPC_PORT", help="The gateway's gRPC port (between roles)."
        ),
    ] = 50050,
    dashboard_port: Annotated[
        int, typer.Option(envvar="ONCALLNOVA_DASHBOARD_PORT", help="Traefik's dashboard port.")
    ] = 8888,
    host: Annotated[
        str, typer.Option(envvar="ONCALLNOVA_GATEWAY_HOST", help="Where the gateway listens.")
    ] = "127.0.0.1",
    detach: Annotated[bool, typer.Option(help="Return once healthy; `stack down` stops.")] = False,
    timeout: Timeout = 180.0,
    as_json: JsonOption = False,
) -> None:
    """Start Traefik and every role (N replicas of those asked), wait until all are
    healthy, print the URLs; then wait, and stop everything on Ctrl-C (or `--detach`:
    leave them running for `oncallnova stack down`)."""
    from oncallnova.stack import control

    settings = _settings()
    counts = {
        RoleName.ingestion: ingestion,
        RoleName.incidents: incidents,
        RoleName.oncall: oncall,
        RoleName.web: web,
        RoleName.engine: engine,
    }
    started = time.monotonic()
    try:
        state = control.up(
            settings,
            counts,
            host=host,
            gateway_port=gateway_port,
            grpc_port=grpc_port,
            dashboard_port=dashboard_port,
            timeout=timeout,
            progress=_waiting,
        )
    except StackError as exc:
        raise _fail(exc) from exc
    except KeyboardInterrupt:
        err.print("interrupted: what had started is stopped")
        raise typer.Exit(130) from None
    if as_json:
        typer.echo(json.dumps(_urls(state) | {"processes": control.report(state)}, indent=2))
    else:
        out.print(f"stack healthy in {time.monotonic() - started:.0f}s")
        out.print(_urls_table(state))
    if not detach:
        _supervise(settings, state)


def _urls(state: StackState) -> dict[str, Any]:
    metrics = next((proc.url for proc in state.of_role("metrics")), None)
    return {
        "gateway": state.gateway_url,
        "api_docs": f"{state.gateway_url}/docs",
        "dashboard": state.dashboard_url,
        "metrics": f"{metrics}/metrics" if metrics else None,
        "logs": str(state.directory / "logs"),
    }


def _urls_table(state: StackState) -> Table:
    table = Table(title="OnCallNova stack")
    table.add_column("what")
    table.add_column("where")
    labels = {
        "gateway": "web UI and API (gateway)",
        "api_docs": "API docs",
        "dashboard": "Traefik dashboard",
        "metrics": "metrics role",
        "logs": "logs",
    }
    for key, value in _urls(state).items():
        table.add_row(labels[key], str(value))
    for proc in state.processes:
        if proc.url and proc.role != "gateway":
            table.add_row(f"  {proc.name}", proc.url)
    return table


def _supervise(settings: Settings, state: StackState) -> None:
    """Waits in the foreground: Ctrl-C or SIGTERM stops the stack; so does `stack down`
    from another terminal (then this returns). A process that exits is reported once."""
    from oncallnova.stack import control

    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    state.supervisor = os.getpid()
    state.save()
    out.print("running; Ctrl-C stops every process")
    reported: set[str] = set()
    while not stopping:
        time.sleep(0.5)
        current = StackState.load(state.directory)
        if current is None:
            out.print("the stack was stopped elsewhere (`stack down`)")
            return
        for proc in current.processes:
            if proc.name not in reported and not running(proc):
                reported.add(proc.name)
                err.print(f"[yellow]{proc.name} exited[/yellow] (its log: {proc.log})")
        reap()
    out.print("stopping...")
    control.down(settings)
    out.print("stopped")


@stack_app.command("down")
def down(
    purge: Annotated[
        bool, typer.Option(help="Also delete the stack's logs and generated files.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Stop every process of the stack started here (this data directory). The database
    and Redis are left as they are."""
    from oncallnova.stack import control

    settings = _settings()
    stopped = control.down(settings)
    if purge:
        shutil.rmtree(settings.data_dir / "stack", ignore_errors=True)
    if as_json:
        typer.echo(json.dumps({"stopped": [proc.name for proc in stopped]}))
    elif stopped:
        out.print(f"stopped {len(stopped)} processes: {', '.join(p.name for p in stopped)}")
    else:
        out.print("no stack was running here")


@stack_app.command("status")
def status(as_json: JsonOption = False) -> None:
    """Each process, its port and health; exit 1 when something is down (or no stack)."""
    from oncallnova.stack import control

    settings = _settings()
    state = StackState.load(settings.data_dir / "stack")
    if state is None:
        if as_json:
            typer.echo(json.dumps({"running": False, "processes": []}))
        else:
            out.print("no stack is running here (start one with `oncallnova stack up`)")
        raise typer.Exit(1)
    rows = control.report(state)
    if as_json:
        typer.echo(json.dumps({"running": True, **_urls(state), "processes": rows}, indent=2))
    else:
        table = Table(title=f"OnCallNova stack at {state.gateway_url}")
        for column in ("name", "role", "pid", "http", "grpc", "state", "health", "uptime"):
            table.add_column(column)
        for row in rows:
            uptime = row["uptime_seconds"]
            table.add_row(
                *(str(row[key]) for key in ("name", "role", "pid")),
                str(row["http_port"] or "-"),
                str(row["grpc_port"] or "-"),
                str(row["state"]),
                str(row["health"]),
                "-" if uptime is None else f"{uptime:.0f}s",
            )
        out.print(table)
    if any(row["health"] != "healthy" for row in rows):
        raise typer.Exit(1)


@stack_app.command("scale")
def scale(
    ingestion: MaybeCount = None,
    incidents: MaybeCount = None,
    oncall: MaybeCount = None,
    web: MaybeCount = None,
    engine: MaybeCount = None,
    timeout: Timeout = 120.0,
) -> None:
    """Run N replicas of each role named (the others keep theirs)."""
    from oncallnova.stack import control

    asked = {
        RoleName.ingestion: ingestion,
        RoleName.incidents: incidents,
        RoleName.oncall: oncall,
        RoleName.web: web,
        RoleName.engine: engine,
    }
    counts = {role: n for role, n in asked.items() if n is not None}
    if not counts:
        raise _fail(StackError("name at least one role: --ingestion N, --engine N, ..."))
    try:
        state = control.scale(_settings(), counts, timeout=timeout, progress=_waiting)
    except StackError as exc:
        raise _fail(exc) from exc
    summary = ", ".join(f"{role.value} {len(state.of_role(role.value))}" for role in counts)
    out.print(f"scaled: {summary}")


@stack_app.command("restart")
def restart(
    target: Annotated[
        str | None, typer.Argument(help="A role, a process (ingestion-2) or gateway; all.")
    ] = None,
    timeout: Timeout = 120.0,
) -> None:
    """Replace processes one at a time, each new one healthy before the old one stops."""
    from oncallnova.stack import control

    try:
        fresh = control.restart(_settings(), target, timeout=timeout, progress=_waiting)
    except StackError as exc:
        raise _fail(exc) from exc
    out.print(f"restarted as: {', '.join(fresh)}")


@stack_app.command("logs")
def logs(
    target: Annotated[str | None, typer.Argument(help="A role or a process; all.")] = None,
    lines: Annotated[int, typer.Option("--lines", "-n", min=1)] = 50,
    keep_following: Annotated[bool, typer.Option("--follow", "-f", help="Keep following.")] = (
        False
    ),
) -> None:
    """The last lines of each process's log (prefixed with its name); -f keeps following."""
    state = StackState.load(_settings().data_dir / "stack")
    if state is None:
        raise _fail(StackError("no stack is running here (start one with `oncallnova stack up`)"))
    chosen = {
        proc.name: Path(proc.log)
        for proc in state.processes
        if target in (None, proc.role, proc.name)
    }
    if not chosen:
        raise _fail(StackError(f"nothing named {target!r} in the stack"))
    for name, path in chosen.items():
        for text in last_lines(path, lines):
            typer.echo(f"{name} | {text}")
    if keep_following:
        try:
            for name, text in follow(chosen):
                typer.echo(f"{name} | {text}")
        except KeyboardInterrupt:
            return
