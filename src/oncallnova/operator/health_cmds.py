"""`oncallnova status` and `oncallnova health`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from oncallnova.operator import probes
from oncallnova.operator.client import OperatorError, resolve_url
from oncallnova.operator.ui import (
    JsonOption,
    UrlOption,
    duration,
    out,
    print_json,
    progress,
    reports_errors,
)

ServiceOption = Annotated[
    list[str] | None,
    typer.Option(
        "--service",
        help="Another OnCallNova process to check, as NAME=URL (repeatable), e.g. "
        "incidents=http://127.0.0.1:8002 in a split installation.",
    ),
]


def _services(pairs: list[str] | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, url = pair.partition("=")
        if not sep or not name or not url.startswith(("http://", "https://")):
            raise OperatorError(f"--service {pair!r}: expected NAME=http://HOST:PORT", 2)
        found[name] = url.rstrip("/")
    return found


def run_probes(url: str, services: dict[str, str], show_progress: bool) -> list[probes.Probe]:
    checks = probes.all_probes(url, services)
    results: list[probes.Probe] = []
    with progress(show_progress) as bar:
        task = bar.add_task("checking", total=len(checks))
        for check in checks:
            results.append(check())
            bar.advance(task)
    return results


def _state(probe: probes.Probe) -> str:
    return "[green]up[/green]" if probe.state == "up" else "[red]down[/red]"


@reports_errors
def status(
    url: UrlOption = None, service: ServiceOption = None, as_json: JsonOption = False
) -> None:
    """Every service and piece of infrastructure: state, replicas, health, version, uptime."""
    target = resolve_url(url)
    found = run_probes(target, _services(service), not as_json)
    if as_json:
        print_json({"url": target, "components": [p.as_dict() for p in found]})
        return
    table = Table(title=f"OnCallNova at {escape(target)}")
    for column in ("component", "kind", "state", "replicas", "health", "version", "uptime"):
        table.add_column(column)
    for p in found:
        table.add_row(
            escape(p.name),
            p.kind,
            _state(p),
            "-" if p.replicas is None else str(p.replicas),
            escape(p.health),
            escape(p.version or "-"),
            duration(p.uptime_seconds),
        )
    out.print(table)


@reports_errors
def health(
    url: UrlOption = None, service: ServiceOption = None, as_json: JsonOption = False
) -> None:
    """Check every health endpoint and the infrastructure; exit status 1 if one is down.

    PostgreSQL, Redis, SMTP and Prometheus are checked where this environment names them
    (DATABASE_URL, REDIS_URL, SMTP_HOST/SMTP_PORT, PROMETHEUS_URL)."""
    target = resolve_url(url)
    found = run_probes(target, _services(service), not as_json)
    down = [p for p in found if p.state != "up"]
    if as_json:
        print_json({"url": target, "healthy": not down, "checks": [p.as_dict() for p in found]})
    else:
        table = Table(title=f"Health of {escape(target)}")
        for column in ("check", "address", "state", "detail"):
            table.add_column(column)
        for p in found:
            table.add_row(escape(p.name), escape(p.address), _state(p), escape(p.health))
        out.print(table)
        if down:
            out.print(f"[red]{len(down)} down:[/red] " + ", ".join(escape(p.name) for p in down))
        else:
            out.print("[green]everything is up[/green]")
    if down:
        raise typer.Exit(1)
