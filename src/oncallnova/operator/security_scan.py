"""The live half of `oncallnova security`: what a running OnCallNova answers to a
client without credentials, with a forged token, in a burst, and to default passwords.

Everything here is harmless to the target: requests without credentials to made-up
ids, a handful of failed sign-ins, one short burst that the rate limit should stop."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from oncallnova.operator.credentials import jwt_claims

Severity = Literal["high", "medium", "low", "info"]
SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2, "info": 3}
NIL_ID = "00000000-0000-0000-0000-000000000000"
REQUIRED_HEADERS = {
    "content-security-policy": "Content-Security-Policy",
    "x-frame-options": "X-Frame-Options",
    "x-content-type-options": "X-Content-Type-Options",
    "referrer-policy": "Referrer-Policy",
}
# One try per account on purpose: each failure counts toward the server's sign-in
# lockout (five per account and address in five minutes), which the scan must not reach.
WEAK_SIGN_INS = (
    ("admin@oncallnova.local", "changeme1234"),  # the default admin
    ("admin@example.com", "password1234"),
)
BURST_LIMIT = 1500
BURST_WORKERS = 32
BURST_SECONDS = 15.0
# Below this many answers per second a burst proves nothing: a limit refilling at the
# default 100 per second would never run dry.
CONCLUSIVE_RATE = 150.0


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    message: str
    fix: str
    source: Literal["configuration", "scan"] = "scan"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_loopback_url(url: str) -> bool:
    import ipaddress

    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Scanner:
    def __init__(
        self, url: str, token: str | None, tick: Callable[[str], None] | None = None
    ) -> None:
        self.url = url
        self.token = token
        self.tick = tick or (lambda _: None)
        self.http = httpx.Client(base_url=url, timeout=10)
        self.notes: list[str] = []  # what was checked, for the report

    def close(self) -> None:
        self.http.close()

    def _status(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send and read only the head (an event stream must not be read to its end);
        a 429 asking for a short wait is waited out, as any client should; a longer one
        (a sign-in lockout) is returned."""
        deadline = time.monotonic() + 30
        while True:
            request = self.http.build_request(method, path, **kwargs)
            response = self.http.send(request, stream=True)
            response.close()
            wait = response.headers.get("retry-after", "")
            short = wait.isdigit() and time.monotonic() + float(wait) < deadline
            if response.status_code != 429 or not short:
                return response
            time.sleep(max(float(wait), 0.2))

    def plain_http(self) -> list[Finding]:
        if urlsplit(self.url).scheme == "http" and not is_loopback_url(self.url):
            return [
                Finding(
                    "high",
                    "plain-http",
                    f"{self.url} is served over plain HTTP on an address beyond this machine: "
                    "passwords and tokens cross the network unencrypted.",
                    "Put a TLS-terminating proxy in front (Traefik, nginx, Caddy) and use https://.",
                )
            ]
        return []

    def open_routes(self) -> list[Finding]:
        """Every operation the OpenAPI document says needs a role, called without one."""
        document = self.http.get("/openapi.json").json()
        found = []
        probed = 0
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                role = operation.get("x-required-role") if isinstance(operation, dict) else None
                if not role:
                    continue
                concrete = path
                for part in [p for p in path.split("/") if p.startswith("{")]:
                    concrete = concrete.replace(part, NIL_ID)
                body = {"json": {}} if method in ("post", "put", "patch") else {}
                self.tick(f"{method.upper()} {path}")
                status = self._status(method.upper(), concrete, **body).status_code
                probed += 1
                if status in (401, 403):
                    continue
                severity: Severity = (
                    "high" if status < 300 else "medium" if status >= 500 else "low"
                )
                found.append(
                    Finding(
                        severity,
                        "answers-without-credentials",
                        f"{method.upper()} {path} (needs {role}) answered {status} to a request "
                        "without credentials; 401 was expected.",
                        "Check the route's authentication dependency.",
                    )
                )
        self.notes.append(f"{probed} operations that need a role called without credentials")
        return found

    def headers(self) -> list[Finding]:
        missing: dict[str, list[str]] = {}
        paths = ["/health", "/api/v1/auth/me", "/docs"]
        https = urlsplit(self.url).scheme == "https"
        for path in paths:
            got = self._status("GET", path).headers
            wanted = dict(REQUIRED_HEADERS)
            if https:
                wanted["strict-transport-security"] = "Strict-Transport-Security"
            for key, name in wanted.items():
                if key not in got:
                    missing.setdefault(name, []).append(path)
        self.notes.append(f"security headers on {', '.join(paths)}")
        return [
            Finding(
                "medium",
                "missing-security-header",
                f"{name} is missing from {', '.join(where)}.",
                "Serve it on every response (OnCallNova does; check a proxy in front).",
            )
            for name, where in missing.items()
        ]

    def forged_token(self) -> list[Finding]:
        now = int(time.time())
        claims = (jwt_claims(self.token) if self.token else None) or {
            "sub": NIL_ID,
            "typ": "access",
            "iat": now,
            "exp": now + 3600,
        }
        accepted = []
        for alg in ("none", "None", "NONE"):
            forged = f"{_b64({'alg': alg, 'typ': 'JWT'})}.{_b64(claims)}."
            response = self._status(
                "GET", "/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"}
            )
            if response.status_code < 300:
                accepted.append(alg)
        self.notes.append("a forged unsigned token (alg none, None, NONE)")
        if not accepted:
            return []
        return [
            Finding(
                "high",
                "alg-none-accepted",
                f"An unsigned token (alg: {', '.join(accepted)}) was accepted: anyone can "
                "act as any user.",
                "Verify tokens with an explicit algorithm list (HS256 only).",
            )
        ]

    def rate_limit(self) -> list[Finding]:
        sent, refused, took = asyncio.run(self._burst())
        self.tick(f"burst: {sent} requests")
        if refused:
            self.notes.append(f"the rate limit: 429 after {sent} requests in {took:.1f}s")
        return burst_verdict(sent, refused, took)

    async def _burst(self) -> tuple[int, bool, float]:
        started = time.monotonic()
        sent = 0
        refused = False
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:

            async def worker() -> None:
                nonlocal sent, refused
                while (
                    not refused
                    and sent < BURST_LIMIT
                    and time.monotonic() - started < BURST_SECONDS
                ):
                    sent += 1
                    response = await client.get("/api/v1/auth/me")
                    refused = refused or response.status_code == 429

            await asyncio.gather(*(worker() for _ in range(BURST_WORKERS)))
        return sent, refused, time.monotonic() - started

    def weak_credentials(self) -> list[Finding]:
        self.notes.append(
            f"{len(WEAK_SIGN_INS)} sign-ins with well-known accounts and passwords (one failed "
            "sign-in each, counted by the server's lockout)"
        )
        found = []
        for email, password in WEAK_SIGN_INS:
            response = self._status(
                "POST", "/api/v1/auth/token", data={"username": email, "password": password}
            )
            if response.status_code == 429:
                self.notes.append(f"sign-in as {email}: not tried, sign-ins are throttled")
            elif response.status_code == 200:
                found.append(
                    Finding(
                        "high",
                        "weak-credentials",
                        f"{email} signs in with the well-known password {password!r}.",
                        "Change that password now (PUT /api/v1/users/{id}/password).",
                    )
                )
        return found

    def open_metrics(self) -> list[Finding]:
        if is_loopback_url(self.url):
            return []
        if self._status("GET", "/metrics").status_code == 200:
            return [
                Finding(
                    "medium",
                    "open-metrics",
                    f"{self.url}/metrics answers without a token beyond this machine.",
                    "Set METRICS_TOKEN and give it to Prometheus as a bearer token.",
                )
            ]
        return []

    def checks(self) -> list[tuple[str, Callable[[], list[Finding]]]]:
        return [
            ("plain HTTP", self.plain_http),
            ("routes without credentials", self.open_routes),
            ("security headers", self.headers),
            ("forged alg:none token", self.forged_token),
            ("default credentials", self.weak_credentials),
            ("open /metrics", self.open_metrics),
            ("rate limit", self.rate_limit),
        ]


def burst_verdict(sent: int, refused: bool, took: float) -> list[Finding]:
    """What a burst of `sent` requests over `took` seconds says about the rate limit."""
    if refused:
        return []
    rate = sent / took if took else 0.0
    if rate < CONCLUSIVE_RATE:
        return [
            Finding(
                "info",
                "rate-limit-unverified",
                f"{sent} requests in {took:.1f}s ({rate:.0f}/s) were all answered: too "
                "slow a burst to tell whether a rate limit is on.",
                "Run the scan closer to the server, or when it is less busy.",
            )
        ]
    return [
        Finding(
            "medium",
            "no-rate-limit",
            f"{sent} requests in {took:.1f}s ({rate:.0f}/s) from one client were all "
            "answered; none got 429.",
            "Keep RATE_LIMIT_ENABLED on (the default) or rate-limit at the proxy.",
        )
    ]
