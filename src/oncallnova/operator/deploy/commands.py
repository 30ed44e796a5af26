"""`oncallnova deploy|build|down|restart|clean|logs|scale|scale-down`."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from oncallnova.operator.client import OperatorError
from oncallnova.operator.deploy.compose import COMPOSE_FILE, ComposeDriver
from oncallnova.operator.deploy.driver import DEFAULT_REPLICAS, URLS, DeploymentDriver, Plan
from oncallnova.operator.deploy.native import NativeDriver
from oncallnova.operator.ui import JsonOption, err, out, print_json, reports_errors

NativeOption = Annotated[
    bool, typer.Option("--native", help="Use the no-Docker process topology instead of Compose.")
]
ComposeFileOption = Annotated[
    Path, typer.Option("--compose-file", envvar="ONCALLNOVA_COMPOSE_FILE", help="The Compose file.")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Print the commands it would run, run nothing.")
]


def choose(native: bool, compose_file: Path, dry_run: bool) -> DeploymentDriver:
    """Compose when Docker is there, else the native topology; --native forces it."""
    compose = ComposeDriver(compose_file)
    drivers: list[DeploymentDriver] = [NativeDriver()] if native else [compose, NativeDriver()]
    if dry_run:
        return drivers[0]
    reasons = []
    for driver in drivers:
        missing = driver.missing()
        if missing is None:
            return driver
        reasons.append(missing)
    advice = (
        "" if native else " Install Docker with the Compose plugin (--dry-run shows the commands)."
    )
    raise OperatorError("cannot act on a deployment here: " + "; and ".join(reasons) + "." + advice)


def execute(driver: DeploymentDriver, plan: Plan, dry_run: bool, as_json: bool) -> None:
    """Run each command in turn, stopping at the first that fails (its exit status)."""
    if dry_run or as_json:
        if as_json:
            print_json({"driver": driver.name, "dry_run": dry_run, "commands": plan.lines()})
        else:
            for text in plan.lines():
                out.print(escape(text))
        if dry_run:
            return
    for command in plan.commands:
        if not as_json:
            err.print(f"[dim]$ {escape(' '.join(command))}[/dim]")
        code = subprocess.run(command, check=False).returncode  # noqa: S603 (no shell)
        if code != 0:
            raise typer.Exit(code)


def act(
    native: bool,
    compose_file: Path,
    dry_run: bool,
    as_json: bool,
    plan: Callable[[DeploymentDriver], Plan],
) -> None:
    """Pick the driver, make its plan, run it (or print it)."""
    driver = choose(native, compose_file, dry_run)
    execute(driver, plan(driver), dry_run, as_json)


def _known(driver: DeploymentDriver, service: str | None) -> str | None:
    if service is not None and service not in driver.services():
        raise OperatorError(
            f"no service {service!r}; the deployment has: {', '.join(driver.services())}", 2
        )
    return service


def urls_table() -> Table:
    table = Table(title="OnCallNova is up")
    table.add_column("what")
    table.add_column("URL")
    for what, url in URLS:
        table.add_row(what, url)
    return table


@reports_errors
def deploy(
    native: NativeOption = False,
    compose_file: ComposeFileOption = COMPOSE_FILE,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Build, start every service, wait until all are healthy, then print the URLs."""
    driver = choose(native, compose_file, dry_run)
    execute(driver, driver.deploy(), dry_run, as_json)
    if not dry_run and not as_json and not driver.prints_urls:
        out.print(urls_table())


@reports_errors
def build(
    native: NativeOption = False,
    compose_file: ComposeFileOption = COMPOSE_FILE,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Build the images."""
    act(native, compose_file, dry_run, as_json, lambda d: d.build())


@reports_errors
def down(
    native: NativeOption = False,
    compose_file: ComposeFileOption = COMPOSE_FILE,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Stop and remove the services (volumes are kept)."""
    act(native, compose_file, dry_run, as_json, lambda d: d.down())


@reports_errors
def restart(
    service: Annotated[str | None, typer.Argument(help="One service; default: all.")] = None,
    native: NativeOption = False,
    compose_file: ComposeFileOption = COMPOSE_FILE,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Restart every service, or one."""
    act(native, compose_file, dry_run, as_json, lambda d: d.restart(_known(d, service)))


@reports_errors
def clean(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask first.")] = False,
    native: NativeOption = False,
    compose_file: ComposeFileOption = COMPOSE_FILE,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Remove containers, volumes (all data) and built images; asks first unless --yes."""
    driver = choose(native, compose_file, dry_run)
    plan = driver.clean()
    if not (yes or dry_run) and not typer.confirm(driver.clean_warning):
        raise OperatorError("nothing removed", 1)
    execute(driver, plan, dry_run, as_json)


@reports_errors
def logs(
    service: Annotated[str | None, typer.Argument(help="One service; default: all.")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep following.")] = False,
    native: NativeOption = False,
    compose_file: ComposeFileOption = COMPOSE_FILE,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Show the logs of every service, or one."""
    act(native, compose_file, dry_run, as_json, lambda d: d.logs(_known(d, service), follow))


@reports_errors
def scale(
    replicas: Annotated[
        int, typer.Argument(min=1, max=50, help="Ingestion replicas.")
    ] = DEFAULT_REPLICAS,
    native: NativeOption = False,
    compose_file: ComposeFileOption = COMPOSE_FILE,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Run N ingestion replicas (default 3) behind the gateway."""
    act(native, compose_file, dry_run, as_json, lambda d: d.scale(replicas))


@reports_errors
def scale_down(
    native: NativeOption = False,
    compose_file: ComposeFileOption = COMPOSE_FILE,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Back to one ingestion replica."""
    act(native, compose_file, dry_run, as_json, lambda d: d.scale(1))
