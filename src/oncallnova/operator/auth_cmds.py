"""`oncallnova login` and `logout`: a session token kept per server URL."""

from __future__ import annotations

import sys
import time
from typing import Annotated

import httpx
import typer
from rich.markup import escape

from oncallnova.operator.client import Api, Credentials, OperatorError, resolve_url
from oncallnova.operator.credentials import CredentialStore
from oncallnova.operator.ui import JsonOption, UrlOption, line, print_json, reports_errors


@reports_errors
def login(
    url: UrlOption = None,
    email: Annotated[
        str | None, typer.Option(help="Your sign-in email (asked if not given).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Sign in with email and password; the other commands use the token.

    The token is kept per server URL in your config directory (mode 0600)."""
    target = resolve_url(url)
    if email is None:
        email = typer.prompt("Email")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True)
    with Api(target, Credentials(None, "none")) as api:
        response = api.send(
            "POST",
            "/api/v1/auth/token",
            auth=False,
            data={"username": email, "password": password},
        )
        if response.status_code == 401:
            raise OperatorError(f"{target} refused the email or password", 1)
        if response.status_code == 429:
            wait = response.headers.get("retry-after", "a few")
            raise OperatorError(f"too many failed sign-ins: try again in {wait} seconds", 1)
        if response.status_code != 200:
            raise OperatorError(
                f"sign-in failed with {response.status_code}: {response.text[:200]}"
            )
        token = response.json()["access_token"]
        api.credentials = Credentials(token, "login")
        me = api.get("/api/v1/auth/me")
    store = CredentialStore()
    stored = store.put(target, token, email)
    if as_json:
        print_json({"url": target, "email": email, "role": me.get("role"), "path": str(store.path)})
        return
    line(f"signed in to {escape(target)} as {escape(str(me.get('name')))} ({me.get('role')})")
    if stored.expires_at is not None:
        hours = max(0, round((stored.expires_at - time.time()) / 3600))
        line(f"the token is valid for about {hours} h; it is kept in {store.path}")


@reports_errors
def logout(url: UrlOption = None, as_json: JsonOption = False) -> None:
    """End the session on the server and forget its token here."""
    target = resolve_url(url)
    store = CredentialStore()
    stored = store.get(target)
    if stored is None:
        if as_json:
            print_json({"url": target, "signed_in": False, "ended_on_server": False})
        else:
            line(f"not signed in to {escape(target)}; nothing to forget")
        return
    ended = "the server could not be reached; the token was only forgotten here"
    on_server = False
    try:
        response = httpx.post(
            f"{target}/api/v1/auth/logout",
            headers={"Authorization": f"Bearer {stored.token}"},
            timeout=10,
        )
        if response.status_code < 400:
            ended, on_server = "the session is ended on the server", True
        elif response.status_code == 401:
            ended = "the server had already ended the session"
    except httpx.HTTPError:
        pass
    store.forget(target)
    if as_json:
        print_json({"url": target, "signed_in": True, "ended_on_server": on_server})
    else:
        line(f"signed out of {escape(target)}: {ended}")
