"""The `oncallnova` command line."""

from __future__ import annotations

import asyncio
import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

from oncallnova.importers.cli import import_app
from oncallnova.operator import register as register_operator_commands
from oncallnova.settings import Settings
from oncallnova.stack.cli import stack_app
from oncallnova.transport.mcp.command import mcp_command

app = typer.Typer(
    help="OnCallNova: self-hosted incident management and on-call.", no_args_is_help=True
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
service_app = typer.Typer(help="Manage services and their integration keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(service_app, name="service")
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.command("mcp")(mcp_command)  # the MCP tools over stdio, for desktop assistants
app.add_typer(import_app, name="import")
app.add_typer(stack_app, name="stack")  # the split topology as local processes
console = Console()


class Role(StrEnum):
    all = "all"
    ingestion = "ingestion"
    incidents = "incidents"
    oncall = "oncall"
    web = "web"
    metrics = "metrics"
    engine = "engine"
    api = "api"


ROLE_HELP = (
    "all: everything in one process (the default). The split roles, which talk gRPC and "
    "share ONCALLNOVA_INTERNAL_TOKEN: ingestion (alerts in, HTTP 8001, gRPC 50051), "
    "incidents (alerts, incidents, services, webhooks, analytics; HTTP 8002, gRPC 50052), "
    "oncall (people, schedules, policies, sign-in; HTTP 8003, gRPC 50053), web (the web UI "
    "and every API route, through the others; HTTP 8080), metrics (GET /metrics; 9090), "
    "engine (escalation and notification delivery; no port). api: every API route on the "
    "database in one process, without the web UI and the engine."
)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (HTTP and gRPC).")] = "127.0.0.1",
    port: Annotated[
        int | None, typer.Option(help="HTTP port; default: the role's (8080 for all).")
    ] = None,
    grpc_port: Annotated[
        int | None,
        typer.Option(help="gRPC port of ingestion, incidents and oncall; default: the role's."),
    ] = None,
    role: Annotated[Role, typer.Option(help=ROLE_HELP)] = Role.all,
) -> None:
    """Run OnCallNova; migrations are applied on start by the roles that own the database.

    Stops gracefully on SIGTERM or SIGINT: requests in flight finish and queued alerts
    are stored before exit. Any number of processes of any role may run against one
    PostgreSQL database; the other roles' gRPC addresses come from INCIDENTS_GRPC_ADDR and
    ONCALL_GRPC_ADDR.
    """
    from oncallnova.runtime.roles import ROLES, RoleName
    from oncallnova.runtime.server import run, run_engine

    settings = load_settings()
    _logging(settings, role.value)
    if role is Role.engine:
        run_engine(settings)
        return
    default_port = 8080 if role is Role.api else ROLES[RoleName(role.value)].http_port
    run(
        settings,
        host=host,
        port=port if port is not None else int(default_port or 8080),
        role=role.value,
        grpc_port=grpc_port,
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


register_operator_commands(app)


def main() -> None:
    app()
