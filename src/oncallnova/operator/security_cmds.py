"""`oncallnova security` (alias `check`): the configuration check of this machine's
environment plus a live scan of the target; findings by severity, exit 1 on any high."""

from __future__ import annotations

from typing import Annotated

import httpx
import typer
from rich.markup import escape

from oncallnova.operator.client import OperatorError, resolve_credentials, resolve_url
from oncallnova.operator.credentials import CredentialStore
from oncallnova.operator.security_scan import SEVERITY_RANK, Finding, Scanner
from oncallnova.operator.ui import (
    JsonOption,
    TokenOption,
    UrlOption,
    out,
    print_json,
    progress,
    reports_errors,
)

# How much each configuration finding matters; a code added later without an entry
# here counts as medium.
CONFIG_SEVERITY = {
    "weak-jwt-secret": "high",
    "smtp-password-in-clear": "high",
    "http-without-tls": "high",
    "private-webhooks-on-public-bind": "high",
    "weak-metrics-token": "medium",
    "open-metrics-on-public-bind": "medium",
    "rate-limit-off": "medium",
    "sqlite-synchronous-off": "medium",
    "debug-logging": "low",
}
STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}


def configuration(host: str, base_url: str | None) -> list[Finding]:
    """What `oncallnova check` has always reported, from this machine's environment."""
    from pydantic import ValidationError

    from oncallnova.runtime.check import findings
    from oncallnova.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        raise OperatorError(f"invalid configuration: {exc}", 1) from exc
    if base_url is not None:
        settings = settings.model_copy(update={"base_url": base_url})
    return [
        Finding(CONFIG_SEVERITY.get(f.code, "medium"), f.code, f.message, f.fix, "configuration")  # type: ignore[arg-type]
        for f in findings(settings, host)
    ]


def scan(url: str, token: str | None, show_progress: bool) -> tuple[list[Finding], list[str]]:
    """The live scan's findings and what it checked."""
    scanner = Scanner(url, token)
    try:
        try:
            scanner.http.get("/health", timeout=5)
        except httpx.HTTPError as exc:
            skipped = Finding(
                "info",
                "scan-skipped",
                f"nothing answers at {url} ({type(exc).__name__}): the live scan was skipped.",
                "Start OnCallNova or pass --url to scan it.",
            )
            return [skipped], []
        checks = scanner.checks()
        found: list[Finding] = []
        with progress(show_progress) as bar:
            task = bar.add_task("scanning", total=len(checks))
            scanner.tick = lambda what: bar.update(task, description=f"scanning: {what}")
            for _, check in checks:
                found += check()
                bar.advance(task)
        return found, scanner.notes
    finally:
        scanner.close()


@reports_errors
def security(
    url: UrlOption = None,
    token: TokenOption = None,
    host: Annotated[
        str, typer.Option(help="The address `serve` listens on, for the configuration check.")
    ] = "127.0.0.1",
    base_url: Annotated[
        str | None, typer.Option(help="Overrides ONCALLNOVA_BASE_URL for this check.")
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Check the configuration only; no live scan.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Check the configuration and scan the server; exit status 1 on any high finding.

    The live scan: routes answering without credentials (from the OpenAPI document),
    security headers, a forged alg:none token, the rate limit, default passwords, plain
    HTTP beyond this machine. Each finding has a severity: high, medium, low or info."""
    found = configuration(host, base_url)
    target = resolve_url(url)
    checked = ["the configuration in this environment"]
    if not offline:
        creds = resolve_credentials(target, token, CredentialStore())
        live, notes = scan(target, creds.token, not as_json)
        found += live
        checked += [f"{target}: {note}" for note in notes]
    found.sort(key=lambda f: SEVERITY_RANK[f.severity])
    high = any(f.severity == "high" for f in found)
    if as_json:
        print_json(
            {
                "url": target,
                "checked": checked,
                "findings": [f.as_dict() for f in found],
                "high": high,
            }
        )
    else:
        for note in checked:
            out.print(f"[dim]checked:[/dim] {escape(note)}")
        _print(found)
    if high:
        raise typer.Exit(1)


def _print(found: list[Finding]) -> None:
    problems = [f for f in found if f.severity != "info"]
    for f in found:
        style = STYLE[f.severity]
        out.print(
            f"[{style}]{f.severity.upper():<6}[/{style}] [bold]{escape(f.code)}[/bold] "
            f"({f.source}): {escape(f.message)}"
        )
        out.print(f"       [cyan]fix:[/cyan] {escape(f.fix)}")
    if not problems:
        out.print("[green]no problems found[/green]")
        return
    counts = {s: sum(f.severity == s for f in problems) for s in ("high", "medium", "low")}
    out.print(
        f"{len(problems)} problem{'s' if len(problems) > 1 else ''} found: "
        + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    )
