"""`oncallnova check`: configuration that is unsafe to run with, each with its fix.

Pure: it judges a Settings object, the address the server would bind and (for settings
that Settings may not declare) a mapping of environment variables. The CLI prints.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

from oncallnova.settings import Settings

MIN_SECRET_BYTES = 32
# Values people paste from examples; lowercased, compared to the lowercased setting.
WELL_KNOWN_SECRETS = frozenset(
    {
        "secret",
        "secretkey",
        "secret-key",
        "secret_key",
        "mysecret",
        "supersecret",
        "changeme",
        "change-me",
        "change_me",
        "changeit",
        "password",
        "passw0rd",
        "admin",
        "default",
        "test",
        "token",
        "oncallnova",
        "jwt_secret",
        "jwt-secret",
        "your-secret",
        "your-secret-key",
        "your-256-bit-secret",
        "123456",
        "12345678",
    }
)
GENERATE = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
FALSE_WORDS = frozenset({"0", "false", "no", "off", "n", "f"})


@dataclass(frozen=True)
class Finding:
    code: str
    message: str  # what is wrong and why it matters, one or two sentences
    fix: str


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and `localhost`; names and 0.0.0.0 count as public."""
    if not host:
        return False
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _setting(settings: Settings, field: str, env: str, environ: Mapping[str, str]) -> object | None:
    """A setting other modules may not have declared yet: the field, else the variable."""
    value = getattr(settings, field, None)
    if value is None:
        return environ.get(env)
    reveal = getattr(value, "get_secret_value", None)  # pydantic SecretStr
    return reveal() if callable(reveal) else value


def _flag(value: object | None, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in FALSE_WORDS


def _weakness(value: str) -> str | None:
    """Why a secret is weak, or None."""
    if value.strip().lower() in WELL_KNOWN_SECRETS:
        return "is a well-known example value"
    size = len(value.encode())
    if size < MIN_SECRET_BYTES:
        return f"is only {size} bytes long (at least {MIN_SECRET_BYTES} are needed)"
    if len(set(value)) < 6:
        return "repeats too few characters to be random"
    return None


def _secrets(settings: Settings, environ: Mapping[str, str]) -> list[Finding]:
    found = []
    jwt = _setting(settings, "jwt_secret", "JWT_SECRET", environ)
    if jwt and (why := _weakness(str(jwt))):
        found.append(
            Finding(
                "weak-jwt-secret",
                f"JWT_SECRET {why}: whoever guesses it can sign tokens for any user, "
                "admins included.",
                f"Set JWT_SECRET to a long random value ({GENERATE}), or unset it and "
                "OnCallNova keeps a random one in its data directory.",
            )
        )
    token = _setting(settings, "metrics_token", "METRICS_TOKEN", environ)
    if token and (why := _weakness(str(token))):
        found.append(
            Finding(
                "weak-metrics-token",
                f"METRICS_TOKEN {why}: the metrics endpoint is protected by a guessable token.",
                f"Set METRICS_TOKEN to a long random value ({GENERATE}).",
            )
        )
    clear_smtp = settings.smtp_password and not settings.smtp_starttls
    if clear_smtp and settings.smtp_host and not is_loopback(settings.smtp_host):
        found.append(
            Finding(
                "smtp-password-in-clear",
                f"SMTP_PASSWORD is sent to {settings.smtp_host} without encryption, "
                "because SMTP_STARTTLS is false: anyone on the path can read it.",
                "Set SMTP_STARTTLS=true (and a port that offers STARTTLS, usually "
                "587), or relay through an SMTP server on loopback.",
            )
        )
    return found


def findings(
    settings: Settings, host: str, environ: Mapping[str, str] | None = None
) -> list[Finding]:
    """Every unsafe setting for a server bound to `host`, in a stable order."""
    env = os.environ if environ is None else environ
    public = not is_loopback(host)
    found = _secrets(settings, env)
    if public and settings.base_url.lower().startswith("http://"):
        found.append(
            Finding(
                "http-without-tls",
                f"The server listens on {host}, beyond this machine, and "
                f"ONCALLNOVA_BASE_URL is {settings.base_url}: passwords, session cookies "
                "and tokens would cross the network unencrypted.",
                "Serve OnCallNova behind a TLS-terminating reverse proxy (Traefik, nginx, "
                "Caddy), bind it to 127.0.0.1 and set ONCALLNOVA_BASE_URL to the https:// "
                "address.",
            )
        )
    if public and settings.webhook_allow_private:
        found.append(
            Finding(
                "private-webhooks-on-public-bind",
                f"WEBHOOK_ALLOW_PRIVATE is true while the server listens on {host}: "
                "anyone allowed to create a webhook can make OnCallNova send requests to "
                "loopback and internal addresses (server-side request forgery).",
                "Set WEBHOOK_ALLOW_PRIVATE=false; receivers must then have public addresses.",
            )
        )
    metrics_token = _setting(settings, "metrics_token", "METRICS_TOKEN", env)
    if public and not metrics_token:
        found.append(
            Finding(
                "open-metrics-on-public-bind",
                f"METRICS_TOKEN is not set while the server listens on {host}: anyone who "
                "can reach it can read /metrics (service names, incident counts, who is "
                "on call, request routes).",
                f"Set METRICS_TOKEN to a long random value ({GENERATE}) and have "
                "Prometheus send it as a bearer token, or bind to 127.0.0.1 behind a proxy "
                "that keeps /metrics private.",
            )
        )
    if settings.log_level.strip().upper() == "DEBUG":
        found.append(
            Finding(
                "debug-logging",
                "LOG_LEVEL is DEBUG: logs grow quickly and may contain request details "
                "and personal data.",
                "Set LOG_LEVEL=INFO (or WARNING).",
            )
        )
    rate_limit = _setting(settings, "rate_limit_enabled", "RATE_LIMIT_ENABLED", env)
    if public and not _flag(rate_limit, default=True):
        found.append(
            Finding(
                "rate-limit-off",
                f"RATE_LIMIT_ENABLED is false while the server listens on {host}: "
                "nothing slows down password guessing or floods of alerts.",
                "Remove RATE_LIMIT_ENABLED=false (limits are on by default).",
            )
        )
    on_sqlite = settings.resolved_database_url().startswith("sqlite")
    if on_sqlite and settings.sqlite_synchronous == "OFF":
        found.append(
            Finding(
                "sqlite-synchronous-off",
                "SQLITE_SYNCHRONOUS is OFF: a power loss or OS crash can lose acknowledged "
                "alerts and corrupt the database.",
                "Set SQLITE_SYNCHRONOUS=NORMAL (the default) or FULL.",
            )
        )
    return found
