"""The operator commands' HTTP client: which server, which credentials, and one clear
line for each way a call can fail (nothing answering, not signed in, refused)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import httpx

from oncallnova.operator.credentials import CredentialStore

DEFAULT_URL = "http://127.0.0.1:8080"
# How long a call keeps retrying answers that ask for it (429 and 503 with Retry-After).
RETRY_BUDGET_SECONDS = 30.0


class OperatorError(Exception):
    """A failure the command reports as one line, with the exit status to use."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def resolve_url(url: str | None) -> str:
    return (url or os.environ.get("ONCALLNOVA_URL") or DEFAULT_URL).rstrip("/")


@dataclass(frozen=True)
class Credentials:
    token: str | None
    source: str  # "--token", "ONCALLNOVA_TOKEN", "login" or "none"
    expired: bool = False


def resolve_credentials(url: str, token: str | None, store: CredentialStore) -> Credentials:
    """--token, else ONCALLNOVA_TOKEN, else what `oncallnova login` kept for this URL."""
    if token:
        return Credentials(token, "--token")
    if env := os.environ.get("ONCALLNOVA_TOKEN"):
        return Credentials(env, "ONCALLNOVA_TOKEN")
    stored = store.get(url)
    if stored is None:
        return Credentials(None, "none")
    return Credentials(stored.token, "login", expired=stored.expired)


def login_hint(url: str, token_too: bool = True) -> str:
    flag = "" if url == DEFAULT_URL and not os.environ.get("ONCALLNOVA_URL") else f" --url {url}"
    also = " (or set ONCALLNOVA_TOKEN to an API token)" if token_too else ""
    return f"run `oncallnova login{flag}`{also}"


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict):
        errors = body.get("errors")
        detail = body.get("detail") or body.get("message") or body
        if isinstance(errors, list) and errors:
            return f"{detail} ({'; '.join(str(e) for e in errors[:3])})"
        return str(detail)
    return str(body)[:200]


class Api:
    """A signed-in (or anonymous) session with one OnCallNova server."""

    def __init__(self, url: str, credentials: Credentials, *, timeout: float = 15.0) -> None:
        self.url = url
        self.credentials = credentials
        self.http = httpx.Client(base_url=url, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def auth_headers(self) -> dict[str, str]:
        creds = self.credentials
        if creds.token is None:
            raise OperatorError(f"not signed in to {self.url}: {login_hint(self.url)}", 2)
        if creds.expired:
            raise OperatorError(
                f"your sign-in to {self.url} has expired: {login_hint(self.url)}", 2
            )
        return {"Authorization": f"Bearer {creds.token}"}

    def send(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request, retried while the server asks to wait (429/503 with Retry-After)
        for at most RETRY_BUDGET_SECONDS; transport failures become OperatorError."""
        all_headers = {**(self.auth_headers() if auth else {}), **(headers or {})}
        deadline = time.monotonic() + RETRY_BUDGET_SECONDS
        while True:
            try:
                response = self.http.request(method, path, headers=all_headers, **kwargs)
            except httpx.ConnectError as exc:
                raise OperatorError(
                    f"nothing answers at {self.url} ({exc}): start OnCallNova "
                    "(`make run` or `oncallnova serve`) or pass --url"
                ) from exc
            except httpx.HTTPError as exc:
                raise OperatorError(f"{method} {path} failed: {exc!r}") from exc
            wait = response.headers.get("retry-after", "")
            retry = response.status_code in (429, 503) and wait.isdigit()
            if retry and time.monotonic() + float(wait) < deadline:
                time.sleep(max(float(wait), 0.2))
                continue
            break
        if auth and response.status_code == 401:
            raise OperatorError(self._refused(), 2)
        return response

    def _refused(self) -> str:
        source = self.credentials.source
        if source == "login":
            return (
                f"{self.url} refused the token `oncallnova login` kept (expired, signed "
                f"out or revoked): {login_hint(self.url)}"
            )
        return (
            f"{self.url} refused the token from {source} (expired or revoked): give a "
            f"valid API token, or drop it and {login_hint(self.url, token_too=False)}"
        )

    def call(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> Any:
        """The JSON answer of a 2xx; anything else is an OperatorError naming the route."""
        response = self.send(method, path, auth=auth, **kwargs)
        if response.status_code == 403:
            raise OperatorError(f"{method} {path}: not allowed for this account (403)")
        if response.status_code >= 400:
            raise OperatorError(
                f"{method} {path} answered {response.status_code}: {_detail(response)}"
            )
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, json=body)

    def delete(self, path: str) -> Any:
        return self.call("DELETE", path)

    def ingest(self, path: str, key: str, body: Any) -> Any:
        """Alerts in with an integration key (no user token)."""
        return self.call("POST", path, auth=False, json=body, headers={"X-Routing-Key": key})
