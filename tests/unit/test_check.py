"""`oncallnova check`: each unsafe setting is reported with a fix; a safe setup passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from oncallnova.runtime.check import findings, is_loopback
from oncallnova.settings import Settings

STRONG = "k3J9-vQ2xZr8LmT4pW6yBn1cD5fH7gS0aE"  # 34 bytes, varied


@pytest.fixture(autouse=True)
def no_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    names = {f.alias for f in Settings.model_fields.values() if f.alias}
    for name in names | {"JWT_SECRET", "METRICS_TOKEN", "RATE_LIMIT_ENABLED"}:
        monkeypatch.delenv(name, raising=False)


def settings(tmp_path: Path, **env: Any) -> Settings:
    """Settings from these values only: no .env file, no variables from the test process."""
    base: dict[str, Any] = {"ONCALLNOVA_DATA_DIR": str(tmp_path)}
    return Settings(_env_file=None, **{**base, **env})  # type: ignore[call-arg]


def codes(s: Settings, host: str = "127.0.0.1", **environ: str) -> list[str]:
    return [f.code for f in findings(s, host, environ=environ)]


def test_defaults_on_loopback_are_clean(tmp_path: Path):
    assert findings(settings(tmp_path), "127.0.0.1", environ={}) == []
    assert findings(settings(tmp_path), "localhost", environ={}) == []
    assert findings(settings(tmp_path), "::1", environ={}) == []


def test_a_hardened_public_setup_is_clean(tmp_path: Path):
    s = settings(
        tmp_path,
        ONCALLNOVA_BASE_URL="https://oncall.example.com",
        WEBHOOK_ALLOW_PRIVATE="false",
        SMTP_HOST="mail.example.com",
        SMTP_PASSWORD="p",
        SMTP_STARTTLS="true",
    )
    assert findings(s, "0.0.0.0", environ={"JWT_SECRET": STRONG, "METRICS_TOKEN": STRONG}) == []


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("secret", "well-known"),
        ("changeme", "well-known"),
        ("Password", "well-known"),
        ("short-but-random-9f2", "only 20 bytes"),
        ("a" * 40, "too few characters"),
    ],
)
def test_weak_jwt_secret(value: str, why: str):
    # Built without validation: the auth module may refuse short secrets at load time.
    s = Settings.model_construct()
    found = findings(s, "127.0.0.1", environ={"JWT_SECRET": value})
    assert [f.code for f in found] == ["weak-jwt-secret"]
    assert why in found[0].message and "JWT_SECRET" in found[0].fix


def test_jwt_secret_read_from_the_settings_field(tmp_path: Path):
    s = settings(tmp_path)
    object.__setattr__(s, "jwt_secret", "changeme")  # as if the field were declared and set
    assert codes(s) == ["weak-jwt-secret"]


def test_weak_metrics_token(tmp_path: Path):
    assert codes(settings(tmp_path), METRICS_TOKEN="abc123") == ["weak-metrics-token"]
    assert codes(settings(tmp_path), METRICS_TOKEN=STRONG) == []


def test_smtp_password_in_clear(tmp_path: Path):
    clear = settings(tmp_path, SMTP_HOST="mail.example.com", SMTP_PASSWORD="p")
    assert codes(clear) == ["smtp-password-in-clear"]
    local = settings(tmp_path, SMTP_HOST="127.0.0.1", SMTP_PASSWORD="p")
    assert codes(local) == []
    no_password = settings(tmp_path, SMTP_HOST="mail.example.com")
    assert codes(no_password) == []


def test_http_without_tls_on_a_public_bind(tmp_path: Path):
    s = settings(tmp_path, WEBHOOK_ALLOW_PRIVATE="false")
    assert codes(s, "0.0.0.0", METRICS_TOKEN=STRONG) == ["http-without-tls"]
    assert codes(s, "127.0.0.1") == []
    tls = settings(tmp_path, WEBHOOK_ALLOW_PRIVATE="false", ONCALLNOVA_BASE_URL="https://x")
    assert codes(tls, "0.0.0.0", METRICS_TOKEN=STRONG) == []


def test_private_webhooks_on_a_public_bind(tmp_path: Path):
    s = settings(tmp_path, ONCALLNOVA_BASE_URL="https://oncall.example.com")
    found = findings(s, "10.1.2.3", environ={"METRICS_TOKEN": STRONG})
    assert [f.code for f in found] == ["private-webhooks-on-public-bind"]
    assert "WEBHOOK_ALLOW_PRIVATE=false" in found[0].fix


def test_open_metrics_on_a_public_bind(tmp_path: Path):
    s = settings(
        tmp_path, ONCALLNOVA_BASE_URL="https://oncall.example.com", WEBHOOK_ALLOW_PRIVATE="false"
    )
    found = findings(s, "0.0.0.0", environ={})
    assert [f.code for f in found] == ["open-metrics-on-public-bind"]
    assert "/metrics" in found[0].message and "METRICS_TOKEN" in found[0].fix
    assert codes(s, "127.0.0.1") == []  # only this machine can scrape it
    assert codes(s, "0.0.0.0", METRICS_TOKEN=STRONG) == []
    # Read from the settings field as `serve` does, not only from the variable.
    assert codes(s.model_copy(update={"metrics_token": STRONG}), "0.0.0.0") == []


def test_debug_logging(tmp_path: Path):
    assert codes(settings(tmp_path, LOG_LEVEL="debug")) == ["debug-logging"]


def test_rate_limit_off_on_a_public_bind(tmp_path: Path):
    s = settings(
        tmp_path, ONCALLNOVA_BASE_URL="https://oncall.example.com", WEBHOOK_ALLOW_PRIVATE="false"
    )
    # Read from the variable when Settings has no such field, from the field when it has.
    if "rate_limit_enabled" in Settings.model_fields:
        s = s.model_copy(update={"rate_limit_enabled": False})
        assert codes(s, "0.0.0.0", METRICS_TOKEN=STRONG) == ["rate-limit-off"]
    else:
        off = {"RATE_LIMIT_ENABLED": "false", "METRICS_TOKEN": STRONG}
        assert codes(s, "0.0.0.0", **off) == ["rate-limit-off"]
    assert codes(s, "127.0.0.1", RATE_LIMIT_ENABLED="false") == []
    on = s.model_copy(update={"rate_limit_enabled": True})
    assert codes(on, "0.0.0.0", RATE_LIMIT_ENABLED="true", METRICS_TOKEN=STRONG) == []


def test_sqlite_synchronous_off(tmp_path: Path):
    assert codes(settings(tmp_path, SQLITE_SYNCHRONOUS="off")) == ["sqlite-synchronous-off"]
    on_postgres = settings(
        tmp_path, SQLITE_SYNCHRONOUS="OFF", DATABASE_URL="postgresql://u@127.0.0.1/db"
    )
    assert codes(on_postgres) == []


def test_loopback_detection():
    for host in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST."]:
        assert is_loopback(host), host
    for host in ["0.0.0.0", "::", "10.0.0.1", "oncall.example.com", ""]:
        assert not is_loopback(host), host


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    from tests.system.servers import free_port

    clean = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "LC_ALL"}}
    # `check` is an alias of `security`, which also scans the server at ONCALLNOVA_URL:
    # aim it where nothing listens, so only the configuration is judged here.
    clean["ONCALLNOVA_URL"] = f"http://127.0.0.1:{free_port()}"
    return subprocess.run(
        [sys.executable, "-m", "oncallnova", "check", *args],
        cwd=tmp_path,  # no .env file there
        env={**clean, "ONCALLNOVA_DATA_DIR": str(tmp_path), "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_exit_status(tmp_path: Path):
    clean = run_cli(tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no problems found" in clean.stdout
    unsafe = run_cli(tmp_path, "--host", "0.0.0.0", LOG_LEVEL="DEBUG")
    assert unsafe.returncode == 1
    for code in [
        "http-without-tls",
        "private-webhooks-on-public-bind",
        "open-metrics-on-public-bind",
        "debug-logging",
    ]:
        assert code in unsafe.stdout
    assert "fix:" in unsafe.stdout
    fixed = run_cli(
        tmp_path,
        "--host",
        "0.0.0.0",
        "--base-url",
        "https://oncall.example.com",
        WEBHOOK_ALLOW_PRIVATE="false",
        METRICS_TOKEN=STRONG,
    )
    assert fixed.returncode == 0, fixed.stdout
