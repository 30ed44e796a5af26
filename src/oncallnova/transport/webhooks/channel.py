"""Delivers notifications over HTTP, each within one deadline: outgoing webhooks (signed
OnCallNova JSON, or a Slack, Mattermost or Teams message) and a person's chat and ntfy
contact methods.

The deadline (5 s by default) covers the whole exchange: connecting, sending, the
answer's head and the part of its body that is read. httpx's own timeouts only bound
each network operation, so a receiver that trickles a byte every few seconds would
never trip them. Of the answer's body at most `max_response_bytes` are read (an error
excerpt is all that is kept), so a receiver answering with gigabytes costs nothing.

Every new connection is vetted against the SSRF policy (`notify/ssrf.py`) when it is
opened, not only when the webhook was saved: DNS may have changed since. The check lives
in the network backend below, which resolves the host, judges every address and then
connects to one of those same addresses. So there is no second lookup an attacker could
answer differently (DNS rebinding), and this holds for https too: TLS still sends the
URL's host name as SNI and verifies the certificate against it, since httpcore takes the
server name from the URL, not from the address the socket connected to.
"""

from __future__ import annotations

import asyncio
import json
import typing
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpcore
import httpx

from oncallnova import __version__
from oncallnova.notify import ssrf
from oncallnova.notify.channels import Delivery, Outcome
from oncallnova.notify.contacts import HttpTarget
from oncallnova.notify.signing import signature_header
from oncallnova.transport.webhooks import formats
from oncallnova.transport.webhooks.messages import message_of

# A webhook by id; a person's contact method by (user id, contact method id).
Directory = Callable[[str], Awaitable[HttpTarget | None]]
ContactLookup = Callable[[str, str], Awaitable[HttpTarget | None]]
MAX_RESPONSE_BYTES = 64 * 1024


def body_bytes(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


class VettingBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to addresses the SSRF policy allows."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await ssrf.resolve(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except (OSError, UnicodeError) as exc:
            # Temporary like any connection error: the name may resolve again later.
            raise httpcore.ConnectError(f"cannot resolve host {host}: {exc}") from exc
        reason = ssrf.refusal(host, addresses, self._allow_private)
        if reason is not None:
            raise ssrf.TargetRefused(reason)
        error: Exception = httpcore.ConnectError(f"no address for {host}")
        for address in addresses:  # every one was vetted; use the first that answers
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class VettingTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with connections opened by `VettingBackend`.

    httpx has no public option for the network backend, so the connection pool it built
    is replaced by an equivalent one that uses ours (the channel's tests would notice if
    a new httpx stopped routing connections through `_pool`).
    """

    def __init__(self, *, allow_private: bool, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=VettingBackend(allow_private),
        )


class WebhookChannel:
    name = "webhook"

    def __init__(
        self,
        directory: Directory,
        *,
        contacts: ContactLookup | None = None,
        base_url: str = "http://127.0.0.1:8080",
        timeout: float = 5.0,
        allow_private: bool = True,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self._directory = directory
        self._contacts = contacts
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._max_response_bytes = max_response_bytes
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=20)
        self._client = httpx.AsyncClient(
            transport=VettingTransport(allow_private=allow_private, limits=limits),
            timeout=timeout,
            follow_redirects=False,
            # No proxies from the environment: a proxy would open the connection itself,
            # to an address this process never sees, and bypass the checks above.
            trust_env=False,
        )

        # Lookups of a webhook's target in flight: the deliveries of one dispatcher pass,
        # sent concurrently, share one read of each webhook instead of one read each.
        self._lookups: dict[str, asyncio.Future[HttpTarget | None]] = {}

    async def close(self) -> None:
        await self._client.aclose()

    async def _target(self, webhook_id: str) -> HttpTarget | None:
        pending = self._lookups.get(webhook_id)
        if pending is None:
            pending = asyncio.ensure_future(self._directory(webhook_id))
            self._lookups[webhook_id] = pending

            def forget(done: asyncio.Future[HttpTarget | None]) -> None:
                if self._lookups.get(webhook_id) is done:
                    del self._lookups[webhook_id]

            pending.add_done_callback(forget)
        return await asyncio.shield(pending)

    async def _where(self, delivery: Delivery) -> HttpTarget | None:
        if delivery.channel == "webhook":
            return await self._target(delivery.destination)
        user_id = str(delivery.payload.get("user_id") or "")
        if self._contacts is None or not user_id:
            return None
        return await self._contacts(user_id, delivery.destination)

    def _request(self, delivery: Delivery, target: HttpTarget) -> tuple[str, bytes, dict[str, str]]:
        """URL, body and headers of the POST, in the target's format."""
        url = target.url
        if target.format == "oncallnova":
            body = body_bytes(delivery.payload)
        else:
            message = message_of(delivery, self._base_url)
            if target.format == "ntfy":
                body = body_bytes(formats.ntfy(message, target.topic))
                url = target.url.rstrip("/") + "/"  # JSON is published to the root URL
            else:
                body = body_bytes(formats.RENDER[target.format](message))
        headers = {
            **target.headers,
            "Content-Type": "application/json",
            "User-Agent": f"OnCallNova/{__version__}",
            "X-OnCallNova-Delivery": delivery.id,
            "X-OnCallNova-Event": delivery.event_type or delivery.kind,
            # The body is read raw and capped; compressed, its excerpt would be unreadable.
            "Accept-Encoding": "identity",
        }
        if target.secrets:
            headers["X-OnCallNova-Signature"] = signature_header(target.secrets, body)
        return url, body, headers

    async def send(self, delivery: Delivery) -> Outcome:
        target = await self._where(delivery)
        if target is None:
            what = "webhook" if delivery.channel == "webhook" else "contact method"
            return Outcome(ok=False, error=f"the {what} was deleted or disabled")
        url, body, headers = self._request(delivery, target)
        try:
            async with asyncio.timeout(self._timeout):
                async with self._client.stream(
                    "POST", url, content=body, headers=headers
                ) as response:
                    head = await _read_at_most(response, self._max_response_bytes)
        except ssrf.TargetRefused as exc:
            # Final: retrying would reach the same refused address.
            return Outcome(ok=False, temporary=False, error=f"refused: {exc}")
        except (TimeoutError, httpx.TimeoutException):
            return Outcome(
                ok=False,
                temporary=True,
                error=f"timed out after {self._timeout:g} s (the whole request and answer)",
            )
        except httpx.HTTPError as exc:
            return Outcome(
                ok=False,
                temporary=True,
                error=f"connection error: {type(exc).__name__}: {exc}"[:500],
            )
        code = response.status_code
        if 200 <= code < 300:
            return Outcome(ok=True, status_code=code)
        temporary = code == 429 or code >= 500
        return Outcome(
            ok=False,
            temporary=temporary,
            status_code=code,
            error=f"HTTP {code}: {_excerpt(response, head)}",
            retry_after=retry_after(response.headers.get("retry-after")) if temporary else None,
        )


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


async def _read_at_most(response: httpx.Response, limit: int) -> bytes:
    """The first `limit` bytes of the body (or all of a shorter one). Leaving the stream
    early closes its connection rather than draining the rest into memory."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def _excerpt(response: httpx.Response, head: bytes) -> str:
    encoding = response.headers.get("content-encoding", "identity").lower()
    if encoding not in ("", "identity"):
        return f"({encoding}-encoded body)"
    return head[:800].decode(response.charset_encoding or "utf-8", errors="replace")[:200]
