"""Which addresses outgoing webhooks may reach: a guard against server-side request forgery.

Anyone who can create a webhook chooses where OnCallNova sends HTTP requests from inside
the network. Link-local addresses (cloud metadata services hand out credentials there)
are refused always; loopback and private ranges only when `WEBHOOK_ALLOW_PRIVATE` is
false, because the all-in-one commonly delivers to receivers on the same machine.

The decision (`refused_reason`) is pure. `resolve` and `check_url` do DNS, the only I/O
here: a host name is judged by every address it resolves to, since a client may connect
to any of them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

import httpx

from oncallnova.core.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALWAYS_REFUSED = [
    ipaddress.ip_network(n) for n in ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128")
]
PRIVATE = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "::/128",  # unspecified, reaches the local host like 0.0.0.0
        "::1/128",
        "fc00::/7",  # unique local
    )
]
# IPv6 forms that carry an IPv4 address in their last 32 bits and reach that IPv4 host:
# IPv4-compatible (::a.b.c.d, deprecated but still routed by some stacks), IPv4-mapped
# (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d, SIIT) and NAT64 gateways, the
# well-known and the local-use prefix (64:ff9b::a.b.c.d, 64:ff9b:1::/48). 6to4 and Teredo
# embed theirs elsewhere and are read by the ipaddress module.
EMBEDDING_IPV4 = [
    ipaddress.ip_network(n)
    for n in ("::/96", "::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48")
]
RESOLVE_TIMEOUT_SECONDS = 5.0


class TargetRefused(Exception):
    """The URL may not be used as a webhook target; the message says why."""


def _views(ip: IPAddress) -> list[IPAddress]:
    """The address and every IPv4 address it stands for (see EMBEDDING_IPV4, 6to4, Teredo)."""
    views: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in net for net in EMBEDDING_IPV4):
            views.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour is not None:
            views.append(ip.sixtofour)
        if ip.teredo is not None:
            views.extend(ip.teredo)  # the Teredo server and the client behind it
    return views


def refused_reason(ip: IPAddress, allow_private: bool) -> str | None:
    """Why a webhook may not connect to `ip`, or None when it may."""
    for view in _views(ip):
        name = str(ip) if view is ip else f"{ip} ({view})"
        if any(view in net for net in ALWAYS_REFUSED):
            return f"{name} is a link-local or cloud metadata address"
        if not allow_private and any(view in net for net in PRIVATE):
            return (
                f"{name} is a loopback or private address "
                "(allowed only with WEBHOOK_ALLOW_PRIVATE=true)"
            )
    return None


def first_refusal(addresses: Iterable[IPAddress], allow_private: bool) -> str | None:
    """The reason to refuse the first refused address; None when all are allowed."""
    for ip in addresses:
        reason = refused_reason(ip, allow_private)
        if reason is not None:
            return reason
    return None


def refusal(host: str, addresses: Iterable[IPAddress], allow_private: bool) -> str | None:
    """Why `host` (a name or a literal address) may not be reached; None when it may."""
    reason = first_refusal(addresses, allow_private)
    if reason is None or _is_literal(host):
        return reason
    return f"'{host}' resolves to {reason}"


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, in resolver order; OSError when it does not."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    addresses: list[IPAddress] = []
    for *_, sockaddr in infos:
        ip = ipaddress.ip_address(sockaddr[0])
        if ip not in addresses:
            addresses.append(ip)
    return addresses


async def check_url(url: str, allow_private: bool) -> list[IPAddress]:
    """The addresses of the URL's host; TargetRefused if it does not resolve or any is refused.

    The URL is parsed by httpx, the client that will send to it, so both read the same host.
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise TargetRefused(f"invalid URL: {exc}") from exc
    host = parsed.raw_host.decode("ascii")  # IDNA-encoded, as httpx will connect to it
    if not host:
        raise TargetRefused("the URL has no host")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            addresses = await resolve(host, port)
    except (OSError, UnicodeError, TimeoutError) as exc:
        raise TargetRefused(f"cannot resolve host '{parsed.host}'") from exc
    reason = refusal(parsed.host, addresses, allow_private)
    if reason is not None:
        raise TargetRefused(reason)
    return addresses


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def vet(url: str, field: str, *, allow_private: bool) -> None:
    """`check_url` for a use case: a refused URL is bad input naming `field`."""
    try:
        await check_url(url, allow_private)
    except TargetRefused as exc:
        raise InvalidInput(f"{field} refused: {exc}", field=field) from exc
