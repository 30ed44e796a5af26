"""Security headers on every response, who the client is behind trusted proxies, and
which `next` addresses the sign-in page may send a browser on to."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style anywhere: the web UI loads its scripts and styles as files.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# The API docs are served from this origin with their scripts as files (docs_routes.py),
# and Swagger UI (/docs) runs under CSP itself. ReDoc (/redoc) styles its page with
# <style> elements it writes at run time and runs its search in a Web Worker built from
# a blob: URL; only the pages given to `install_security_headers` as `docs_paths` get
# this policy, which allows exactly that: scripts stay files of this origin.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
HSTS = "max-age=31536000; includeSubDomains"

Headers = list[tuple[bytes, bytes]]
_SCHEMES = frozenset({"http", "https", "ws", "wss"})


class TrustedProxies:
    """The proxies (IPs or networks) whose X-Forwarded-For/-Proto headers are believed.

    With none configured (the default) the client is the TCP peer, whatever the headers
    say, since anyone can send them.
    """

    def __init__(self, spec: str) -> None:
        nets = [ipaddress.ip_network(p.strip(), strict=False) for p in spec.split(",") if p.strip()]
        self.exact = frozenset(str(n.network_address) for n in nets if n.num_addresses == 1)
        self.networks = tuple(n for n in nets if n.num_addresses > 1)

    def trusts(self, host: str) -> bool:
        if host in self.exact:
            return True
        if not self.networks:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in net for net in self.networks)

    def _peer(self, scope: Scope) -> tuple[str, bool]:
        client = scope.get("client")
        peer = str(client[0]) if client else "unknown"
        return peer, bool(self.exact or self.networks) and self.trusts(peer)

    def client_ip(self, scope: Scope) -> str:
        """The peer, or behind trusted proxies the right-most untrusted forwarded hop.

        Hops left of the first trusted proxy are whatever the client wrote: one that is
        not an IP address ends the walk at the nearest hop known to be one, so the
        client address (stored in sessions and the audit log) is always an address.
        """
        peer, trusted = self._peer(scope)
        if not trusted:
            return peer
        hops = [h.strip() for h in _header(scope, b"x-forwarded-for").split(",") if h.strip()]
        nearest = peer
        for hop in reversed(hops):
            if not _is_ip(hop):
                return nearest
            if not self.trusts(hop):
                return hop
            nearest = hop
        return nearest

    def scheme(self, scope: Scope) -> str:
        scheme = str(scope.get("scheme", "http"))
        _, trusted = self._peer(scope)
        if trusted and (proto := _header(scope, b"x-forwarded-proto")):
            forwarded = proto.split(",")[0].strip().lower()
            if forwarded in _SCHEMES:
                return forwarded
        return scheme

    def forwarded(self, scope: Scope) -> Scope:
        """The scope as the client made the request: behind a trusted proxy, its client
        address and scheme are the forwarded ones, so that every layer below (rate
        limits, sign-in throttling, the audit log, Secure cookies, redirects) sees the
        client and not the proxy. Idempotent: the forwarded client is never a proxy
        hop, or the same hop is found again. Changed in place: the layers around this
        one read what the router leaves in the scope (the route, for metrics)."""
        _, trusted = self._peer(scope)
        if not trusted:
            return scope
        client = scope.get("client")
        port = int(client[1]) if client else 0
        scope["client"], scope["scheme"] = (self.client_ip(scope), port), self.scheme(scope)
        return scope


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _header(scope: Scope, name: bytes) -> str:
    values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == name]
    return ",".join(values)


def _merge(headers: Iterable[tuple[bytes, bytes]], extra: Headers) -> Headers:
    """Adds `extra` headers the response does not set itself (a route may set its own)."""
    merged = list(headers)
    present = {name.lower() for name, _ in merged}
    merged.extend(h for h in extra if h[0] not in present)
    return merged


class SecurityHeaders:
    """Adds CSP, X-Frame-Options, nosniff, Referrer-Policy and (over HTTPS) HSTS.

    Pure ASGI and installed around the whole middleware stack, error handlers included,
    so 404, 413, 429 and 500 answers carry the headers too.
    """

    def __init__(
        self, app: ASGIApp, proxies: TrustedProxies, docs_paths: frozenset[str] = frozenset()
    ) -> None:
        self.app = app
        self.proxies = proxies
        self.docs_paths = docs_paths
        common: Headers = [
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
        ]
        hsts: Headers = [(b"strict-transport-security", HSTS.encode())]
        self.plain = common
        self.secure = common + hsts
        self.csp: Headers = [(b"content-security-policy", CSP.encode())]
        self.docs_csp: Headers = [(b"content-security-policy", DOCS_CSP.encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope = self.proxies.forwarded(scope)
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.secure if scope.get("scheme") == "https" else self.plain
        extra = (self.docs_csp if scope["path"] in self.docs_paths else self.csp) + extra

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": _merge(message.get("headers", ()), extra)}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_security_headers(
    app: FastAPI, trusted_proxies: str = "", docs_paths: Iterable[str] = ()
) -> None:
    """Wraps the app's whole middleware stack (outside Starlette's ServerErrorMiddleware,
    which `add_middleware` cannot reach), so every response gets the headers; the pages
    at `docs_paths` get `DOCS_CSP`."""
    docs = frozenset(docs_paths)
    proxies = TrustedProxies(trusted_proxies)
    build = app.build_middleware_stack

    def build_with_headers() -> ASGIApp:
        return SecurityHeaders(build(), proxies, docs)

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]


def local_path(target: str | None, default: str) -> str:
    """`target` when it is a path on this site, else `default`: no open redirect.

    Browsers read a backslash as a slash and drop tabs and newlines from URLs, so a
    backslash or a control character after the first slash would leave the site as
    `//evil.example` does; only one leading slash followed by printable characters
    other than a backslash passes.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if any(c == "\\" or ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return default
    return target
