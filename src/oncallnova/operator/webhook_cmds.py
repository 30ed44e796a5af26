"""`oncallnova webhook-add` and `oncallnova webhooks`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from oncallnova.operator.client import Api, OperatorError
from oncallnova.operator.demo_service import find_service
from oncallnova.operator.ui import (
    JsonOption,
    TokenOption,
    UrlOption,
    connect,
    out,
    print_json,
    reports_errors,
)


def _service_ids(api: Api, names: list[str]) -> list[str]:
    ids = []
    for name in names:
        service = find_service(api, name)
        if service is None:  # maybe an id already
            service = api.get(f"/api/v1/services/{name}")
        ids.append(service["id"])
    return ids


def _headers(pairs: list[str]) -> dict[str, str]:
    headers = {}
    for pair in pairs:
        name, sep, value = pair.partition(":")
        if not sep or not name.strip():
            raise OperatorError(f"--header {pair!r}: expected NAME:VALUE", 2)
        headers[name.strip()] = value.strip()
    return headers


@reports_errors
def webhook_add(
    target: Annotated[str, typer.Argument(metavar="URL", help="Where to send the events.")],
    url: UrlOption = None,
    token: TokenOption = None,
    name: Annotated[str | None, typer.Option(help="A name to recognise it by.")] = None,
    event: Annotated[
        list[str] | None,
        typer.Option("--event", help="An event type to send (repeatable); default: all."),
    ] = None,
    service: Annotated[
        list[str] | None,
        typer.Option("--service", help="Only this service's incidents (name or id, repeatable)."),
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option("--header", help="A header to add, NAME:VALUE (repeatable).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add an outgoing webhook; its signing secret is printed once, keep it."""
    with connect(url, token) as api:
        body: dict[str, Any] = {"url": target, "headers": _headers(header or [])}
        if name:
            body["name"] = name
        if event:
            body["events"] = event
        if service:
            body["service_ids"] = _service_ids(api, service)
        hook = api.post("/api/v1/webhooks", body)
    if as_json:
        print_json(hook)
        return
    out.print(
        f"webhook [bold]{escape(hook['name'])}[/bold] ({hook['id']}) -> {escape(hook['url'])}"
    )
    out.print(f"events: {', '.join(hook['events'])}")
    out.print(f"secret: [bold]{escape(hook['secret'])}[/bold]  (shown once)")
    out.print(
        "each request carries X-OnCallNova-Signature: v1=<hex HMAC-SHA256(secret, raw body)>; "
        "see README, 'Verifying webhook signatures'"
    )


def _last_delivery(api: Api, hook_id: str) -> dict[str, Any] | None:
    page = api.get(f"/api/v1/webhooks/{hook_id}/deliveries", limit=1)
    items = page.get("items", []) if isinstance(page, dict) else page
    return items[0] if items else None


@reports_errors
def webhooks(url: UrlOption = None, token: TokenOption = None, as_json: JsonOption = False) -> None:
    """List the outgoing webhooks with their last delivery."""
    with connect(url, token) as api:
        hooks = api.get("/api/v1/webhooks")["items"]
        for hook in hooks:
            hook["last_delivery"] = _last_delivery(api, hook["id"])
    if as_json:
        print_json({"items": hooks})
        return
    if not hooks:
        out.print("no webhooks; add one with `oncallnova webhook-add URL`")
        return
    table = Table(title="Webhooks")
    for column in ("id", "name", "url", "events", "services", "enabled", "last delivery"):
        table.add_column(column)
    for hook in hooks:
        last = hook["last_delivery"]
        shown = "-" if last is None else f"{last['outcome']} {str(last['started_at'])[:19]}"
        table.add_row(
            hook["id"][:8],
            escape(hook["name"]),
            escape(hook["url"]),
            str(len(hook["events"])) + " types",
            str(len(hook["service_ids"])) if hook["service_ids"] else "all",
            "yes" if hook["enabled"] else "no",
            escape(shown),
        )
    out.print(table)
