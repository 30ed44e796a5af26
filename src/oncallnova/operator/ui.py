"""Output of the operator commands: Rich on a terminal (colour only there), plain text
when piped, JSON with --json; and the options every HTTP command shares."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from oncallnova.operator.client import Api, OperatorError, resolve_credentials, resolve_url
from oncallnova.operator.credentials import CredentialStore

# Rich turns colour and animation off by itself when the stream is not a terminal, and
# honours NO_COLOR.
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="The OnCallNova to talk to [default: ONCALLNOVA_URL or http://127.0.0.1:8080].",
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        help="An API token (ocn_...) or access token; overrides ONCALLNOVA_TOKEN and `login`.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

P = ParamSpec("P")
R = TypeVar("R")


def reports_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn an OperatorError into its one line on stderr and its exit status."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except OperatorError as exc:
            # One logical line, never wrapped, so scripts and people read it whole.
            err.print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
            raise typer.Exit(exc.code) from exc

    return wrapper


def connect(url: str | None, token: str | None, timeout: float = 15.0) -> Api:
    target = resolve_url(url)
    return Api(target, resolve_credentials(target, token, CredentialStore()), timeout=timeout)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


def line(text: str) -> None:
    out.print(text)


def interactive() -> bool:
    return sys.stderr.isatty()


@contextmanager
def progress(enabled: bool = True) -> Iterator[Progress]:
    """A progress bar on stderr, drawn only on a terminal and never with --json."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not enabled or not err.is_terminal,
    )
    with bar:
        yield bar


def duration(seconds: float | None) -> str:
    """Seconds as people read them: 42s, 3m 05s, 2h 10m, 1d 4h."""
    if seconds is None:
        return "-"
    s = round(seconds)
    if s < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"
