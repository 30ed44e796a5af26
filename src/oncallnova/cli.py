"""The `oncallnova` command line."""

from __future__ import annotations

import asyncio
import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

from oncallnova.importers.cli import import_app
from oncallnova.settings import Settings

app = typer.Typer(
    help="OnCallNova: self-hosted incident management and on-call.", no_args_is_help=True
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
service_app = typer.Typer(help="Manage services and their integration keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(service_app, name="service")
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(import_app, name="import")
console = Console()


class Role(StrEnum):
    all = "all"
    api = "api"
    web = "web"
    engine = "engine"
    metrics = "metrics"


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port.")] = 8080,
    role: Annotated[
        Role,
        typer.Option(
            help="all: everything in one process; api: the HTTP API only (no web UI, no "
            "engine); web: the web UI and the HTTP API it calls (no engine); "
            "engine: the background engine only (escalations, notification delivery), no HTTP; "
            "metrics: only GET /metrics (and /health) for Prometheus."
        ),
    ] = Role.all,
) -> None:
    """Run OnCallNova; migrations are applied on start.

    Stops gracefully on SIGTERM or SIGINT: requests in flight finish and queued alerts
    are stored before exit. Any number of engines may run against one database.
    """
    from oncallnova.runtime.server import run, run_engine

    settings = load_settings()
    _logging(settings, role.value)
    if role is Role.engine:
        run_engine(settings)
    else:
        run(
            settings,
            host=host,
            port=port,
            engine=role is Role.all,
            web=role in (Role.all, Role.web),
            metrics_only=role is Role.metrics,
        )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (the server also does this on start)."""
    from oncallnova.core.db import Database
    from oncallnova.runtime.migrate import upgrade

    settings = load_settings()

    async def main() -> None:
        db = Database(settings.resolved_database_url())
        try:
            await upgrade(db)
        finally:
            await db.dispose()

    asyncio.run(main())
    console.print("database is up to date")


@service_app.command("create")
def service_create(
    name: Annotated[str, typer.Option(help="Service name (unique).")],
    description: Annotated[str | None, typer.Option(help="What the service is.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a service and print its id and first integration key."""
    from oncallnova.core.authz import SYSTEM
    from oncallnova.core.errors import DomainError
    from oncallnova.runtime.container import Runtime
    from oncallnova.services.schemas import ServiceIn

    async def main() -> tuple[str, str]:
        rt = Runtime(load_settings())
        try:
            await rt.start()
            service, key = await rt.services.create(
                SYSTEM, ServiceIn(name=name, description=description)
            )
            return service.id, key.key
        finally:
            await rt.stop()

    try:
        service_id, key = asyncio.run(main())
    except DomainError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps({"id": service_id, "name": name, "integration_key": key}))
    else:
        console.print(f"service id:      {service_id}")
        console.print(f"integration key: {key}")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Email address (the sign-in name).")],
    name: Annotated[str, typer.Option(help="Display name.")],
    role: Annotated[str, typer.Option(help="admin, responder or viewer.")] = "responder",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a user who can sign in. The password is read from standard input only, so it
    never shows in the shell history or the process list."""
    import sys

    from pydantic import ValidationError

    from oncallnova.core.authz import SYSTEM
    from oncallnova.core.errors import DomainError
    from oncallnova.runtime.container import Runtime
    from oncallnova.users.schemas import UserIn

    if not password_stdin:
        console.print("[red]error:[/red] pass --password-stdin and send the password on stdin")
        raise typer.Exit(2)
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        data = UserIn(name=name, email=email, role=role)  # type: ignore[arg-type]
    except ValidationError as exc:
        console.print(f"[red]error:[/red] {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}")
        raise typer.Exit(2) from exc

    async def main() -> str:
        rt = Runtime(load_settings())
        try:
            await rt.start(engine=False, api=False)
            return await rt.auth.create_user(SYSTEM, data, password)
        finally:
            await rt.stop()

    try:
        user_id = asyncio.run(main())
    except DomainError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc
    console.print(f"user id: {user_id}")


@app.command()
def check(
    host: Annotated[str, typer.Option(help="The address `serve` would listen on.")] = "127.0.0.1",
    base_url: Annotated[
        str | None, typer.Option(help="Overrides ONCALLNOVA_BASE_URL for this check.")
    ] = None,
) -> None:
    """Report unsafe configuration (secrets, TLS, SSRF, limits); exit status 1 if any."""
    from pydantic import ValidationError
    from rich.markup import escape

    from oncallnova.runtime.check import findings

    try:
        settings = Settings()
    except ValidationError as exc:
        console.print(f"[red]invalid configuration:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    if base_url is not None:
        settings = settings.model_copy(update={"base_url": base_url})
    found = findings(settings, host)
    if not found:
        console.print("[green]no problems found[/green]")
        return
    for finding in found:
        console.print(
            f"[red]problem[/red] [bold]{escape(finding.code)}[/bold]: {escape(finding.message)}"
        )
        console.print(f"  [cyan]fix:[/cyan] {escape(finding.fix)}")
    console.print(f"{len(found)} problem{'s' if len(found) > 1 else ''} found")
    raise typer.Exit(1)


def load_settings() -> Settings:
    """Settings from the environment, or a clear message and exit status 2."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "settings"
            console.print(f"[red]configuration error:[/red] {name}: {error['msg']}")
        raise typer.Exit(2) from exc


def _logging(settings: Settings, role: str) -> None:
    """JSON (or text) logs on stdout, and to Loki when LOKI_URL is set."""
    from oncallnova.core.logs import configure

    configure(
        level=settings.log_level,
        fmt=settings.log_format,
        role=role,
        loki_url=settings.loki_url,
        environment=settings.environment,
    )


def main() -> None:
    app()
