"""`oncallnova import …`: the plan first (a dry run changes nothing), `--apply` to do it."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from oncallnova.importers import grafana_oncall, ical, opsgenie
from oncallnova.importers.model import Bundle
from oncallnova.importers.reconcile import Reconciler, Report

import_app = typer.Typer(
    help="Bring users, teams, schedules, escalation and integrations over from another "
    "tool. Prints the plan (a dry run: nothing changes); --apply does it. Running it again "
    "creates nothing new.",
    no_args_is_help=True,
)
Apply = Annotated[
    bool,
    typer.Option("--apply/--dry-run", help="Create what the plan lists (default: only show it)."),
]


@import_app.command("ical")
def import_ical(
    source: Annotated[str, typer.Argument(help="The feed's URL (http, https, webcal) or a file.")],
    schedule: Annotated[str, typer.Option(help="The name of the schedule to create.")],
    apply: Apply = False,
) -> None:
    """Any schedule's iCalendar feed (PagerDuty, Opsgenie, Grafana OnCall) as a schedule
    whose shifts are the feed's; people are matched to users by email."""
    run(ical.to_bundle(ical.read_source(source), schedule), apply)


@import_app.command("grafana-oncall")
def import_grafana_oncall(
    url: Annotated[str, typer.Option(help="Grafana OnCall's API URL (without /api/v1).")],
    token: Annotated[str, typer.Option(help="A Grafana OnCall API token (read is enough).")],
    apply: Apply = False,
) -> None:
    """Users, teams, schedules with their rotations and overrides, escalation chains, and
    integrations as services with new keys."""
    run(grafana_oncall.to_bundle(grafana_oncall.fetch(url, token)), apply)


@import_app.command("opsgenie")
def import_opsgenie(
    api_key: Annotated[str, typer.Option(help="An Opsgenie API key (read-only is enough).")],
    url: Annotated[
        str, typer.Option(help="api.eu.opsgenie.com for EU accounts.")
    ] = opsgenie.DEFAULT_URL,
    apply: Apply = False,
) -> None:
    """Users, teams, schedules with their rotations and overrides, escalations, and
    Alert API integrations as services with new keys."""
    run(opsgenie.to_bundle(opsgenie.fetch(url, api_key)), apply)


def run(bundle: Bundle, apply: bool) -> None:
    from oncallnova.cli import load_settings
    from oncallnova.runtime.container import Runtime

    settings = load_settings()

    async def main() -> Report:
        rt = Runtime(settings)
        try:
            # A dry run migrates nothing either; it needs a database `db upgrade` made.
            await rt.start(migrate=apply, engine=False, api=False)
            return await Reconciler(rt.use_cases, settings.base_url, apply).run(bundle)
        finally:
            await rt.stop()

    show(asyncio.run(main()))


def show(report: Report) -> None:
    head = "Done" if report.applied else "Plan (dry run: nothing was changed; add --apply)"
    typer.echo(f"{head}:")
    for step in report.steps:
        typer.echo(f"  {step.action:<14} {step.kind:<18} {step.name}")
    if report.remarks:
        typer.echo("Left out or changed, per object (no equivalent here, or unknown):")
        for remark in report.remarks:
            typer.echo(f"  {remark.kind} {remark.name}: {remark.text}")
    if report.urls:
        typer.echo("Old integration URLs and their new ones:")
        for old, new in report.urls:
            typer.echo(f"  {old}\n    -> {new}")
    verb = "created" if report.applied else "would be created"
    typer.echo(f"{report.created} {verb}.")
