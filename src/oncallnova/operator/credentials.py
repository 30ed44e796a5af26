"""Where `oncallnova login` keeps its tokens: one JSON file in the user's config
directory, readable by its owner only (mode 0600), one entry per server URL."""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

FILE_NAME = "credentials.json"


def config_dir() -> Path:
    """`$XDG_CONFIG_HOME/oncallnova` (usually `~/.config/oncallnova`) on Linux, the
    platform's usual place elsewhere; ONCALLNOVA_CONFIG_DIR overrides it."""
    override = os.environ.get("ONCALLNOVA_CONFIG_DIR")
    return Path(override) if override else Path(typer.get_app_dir("oncallnova"))


@dataclass(frozen=True)
class Stored:
    token: str
    email: str
    expires_at: float | None  # epoch seconds; None when the token says nothing

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= time.time()


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT, unverified (only to read its expiry); None for other tokens."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, json.JSONDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


class CredentialStore:
    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or config_dir()) / FILE_NAME

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, json.JSONDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temp = self.path.with_suffix(".tmp")
        # Created 0600 from the start, so the token is never readable by others, even
        # for an instant; then renamed over the old file.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2)
        os.chmod(temp, 0o600)
        os.replace(temp, self.path)

    def get(self, url: str) -> Stored | None:
        entry = self._read().get(url)
        if not entry or not isinstance(entry.get("token"), str):
            return None
        return Stored(entry["token"], str(entry.get("email", "")), entry.get("expires_at"))

    def put(self, url: str, token: str, email: str) -> Stored:
        claims = jwt_claims(token) or {}
        expires = claims.get("exp")
        stored = Stored(token, email, float(expires) if expires is not None else None)
        data = self._read()
        data[url] = {"token": token, "email": email, "expires_at": stored.expires_at}
        self._write(data)
        return stored

    def forget(self, url: str) -> Stored | None:
        data = self._read()
        entry = data.pop(url, None)
        if entry is None:
            return None
        self._write(data)
        return Stored(entry["token"], str(entry.get("email", "")), entry.get("expires_at"))
