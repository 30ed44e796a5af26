"""Credentials as operators expect: `login` keeps a token (mode 0600) per server,
ONCALLNOVA_TOKEN and --token override it, `logout` ends the session, and a missing,
expired or refused token gets one line saying what to run."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import httpx
import pytest

from oncallnova.operator.credentials import CredentialStore
from tests.operator.conftest import Cli
from tests.system.servers import ADMIN_EMAIL, ADMIN_PASSWORD, Server

pytestmark = pytest.mark.slow


def one_line(text: str) -> str:
    lines = [x for x in text.splitlines() if x.strip()]
    assert len(lines) == 1, text
    return lines[0]


def test_not_signed_in_says_what_to_run(cli: Cli, server: Server):
    done = cli("test-alert")
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert f"not signed in to {server.url}" in line
    assert f"oncallnova login --url {server.url}" in line and "ONCALLNOVA_TOKEN" in line


def test_login_keeps_a_private_token_and_logout_ends_the_session(
    cli: Cli, server: Server, tmp_path: Path
):
    done = cli("login", "--password-stdin", "--email", ADMIN_EMAIL, stdin=ADMIN_PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert f"signed in to {server.url} as Admin (admin)" in done.stdout
    path = tmp_path / "config" / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    token = json.loads(path.read_text())[server.url]["token"]
    me = httpx.get(f"{server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200

    assert cli("webhooks").returncode == 0  # the kept token is used

    done = cli("logout")
    assert done.returncode == 0
    assert "the session is ended on the server" in done.stdout
    assert server.url not in json.loads(path.read_text())
    me = httpx.get(f"{server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401

    # The ended session's token, put back by hand, is refused with one clear line.
    CredentialStore(path.parent).put(server.url, token, ADMIN_EMAIL)
    done = cli("webhooks")
    assert done.returncode == 2
    assert "refused the token `oncallnova login` kept" in one_line(done.stderr)


def test_wrong_password(cli: Cli):
    done = cli("login", "--email", ADMIN_EMAIL, "--password-stdin", stdin="not-the-password\n")
    assert done.returncode == 1
    assert "refused the email or password" in one_line(done.stderr)


def test_expired_token_is_caught_before_sending(cli: Cli, server: Server, tmp_path: Path):
    def b64(data: dict) -> str:
        import base64

        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    stale = f"{b64({'alg': 'HS256'})}.{b64({'sub': 'x', 'exp': int(time.time()) - 60})}.sig"
    CredentialStore(tmp_path / "config").put(server.url, stale, ADMIN_EMAIL)
    done = cli("analytics")
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert f"your sign-in to {server.url} has expired" in line and "oncallnova login" in line


def test_api_token_from_the_environment_or_the_option_wins(cli: Cli, server: Server):
    created = httpx.post(
        f"{server.url}/api/v1/auth/api-tokens", headers=server.headers, json={"name": "ops"}
    )
    created.raise_for_status()
    api_token = created.json()["token"]
    done = cli("webhooks", "--json", ONCALLNOVA_TOKEN=api_token)
    assert done.returncode == 0, done.stderr
    assert "items" in json.loads(done.stdout)
    done = cli("webhooks", "--token", api_token, ONCALLNOVA_TOKEN="ocn_revoked_or_made_up")
    assert done.returncode == 0, done.stderr

    done = cli("webhooks", ONCALLNOVA_TOKEN="ocn_revoked_or_made_up")
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert "refused the token from ONCALLNOVA_TOKEN" in line and "oncallnova login" in line


def test_nothing_listening_is_one_line(tmp_path: Path):
    from tests.operator.conftest import make_cli
    from tests.system.servers import free_port

    cli = make_cli(f"http://127.0.0.1:{free_port()}", tmp_path / "config")
    done = cli("test-batch", ONCALLNOVA_TOKEN="ocn_x")
    assert done.returncode == 1
    assert "nothing answers at http://127.0.0.1:" in one_line(done.stderr)
