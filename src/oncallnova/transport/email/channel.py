"""The email delivery channel: renders a delivery and hands it to an SMTP server.

Subjects (see `render` for the message itself):

- page:          ``[CRITICAL] checkout: CPU high`` (the incident's severity, upper-cased)
- acknowledged:  ``[ACKNOWLEDGED] checkout: CPU high``
- resolved:      ``[RESOLVED] checkout: CPU high``

`EmailChannel.send` never raises; it answers an `Outcome` the dispatcher acts on:

- delivered -> ok
- SMTP_HOST unset, no email address, a message that cannot be built, or a 5xx reply
  (e.g. 550 recipient refused, 535 login failed) -> final failure
- connection refused, timeouts, a dropped connection, TLS failures and 4xx replies
  (e.g. 451 try again later) -> temporary failure, worth a retry

`status_code` is the SMTP reply code when the server gave one.
"""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass
from email.utils import parseaddr

import aiosmtplib

from oncallnova.core.clock import Clock, SystemClock
from oncallnova.notify.channels import Delivery, Outcome
from oncallnova.transport.email.render import render

__all__ = ["EmailChannel", "SmtpConfig", "render"]

log = logging.getLogger(__name__)

NOT_CONFIGURED = "email is not configured (SMTP_HOST is unset)"
NO_ADDRESS = "user has no email address"
MAX_DETAIL = 200  # server replies can be long; the error should stay one short line


@dataclass(frozen=True)
class SmtpConfig:
    host: str | None
    port: int = 25
    sender: str = "oncallnova@localhost"
    username: str | None = None
    password: str | None = None
    # True requires STARTTLS (fails if the server does not offer it); False never
    # upgrades, which suits a local relay on localhost.
    starttls: bool = False
    timeout: float = 10.0


class EmailChannel:
    """Implements `notify.channels.Channel` over SMTP."""

    name = "email"

    def __init__(self, config: SmtpConfig, base_url: str, *, clock: Clock | None = None) -> None:
        self._config = config
        self._base_url = base_url.rstrip("/")
        self._clock = clock or SystemClock()

    async def send(self, delivery: Delivery) -> Outcome:
        config = self._config
        if not config.host:
            return Outcome(ok=False, error=NOT_CONFIGURED)
        to = delivery.payload.get("to")
        if not isinstance(to, str) or not to.strip():
            return Outcome(ok=False, error=NO_ADDRESS)
        to = to.strip()
        if "@" not in to or any(c.isspace() or not c.isprintable() for c in to):
            return Outcome(ok=False, error=f"invalid email address {_short(repr(to))}")
        try:
            message = render(delivery, self._base_url, sender=config.sender, now=self._clock.now())
        except Exception as exc:  # a bad payload: retrying the same payload cannot help
            log.warning("email delivery %s: cannot build message: %s", delivery.id, exc)
            return Outcome(ok=False, error=f"cannot build the email: {_short(exc)}")
        try:
            await aiosmtplib.send(
                message,
                sender=parseaddr(config.sender)[1] or config.sender,
                recipients=[to],
                hostname=config.host,
                port=config.port,
                username=config.username or None,
                password=config.password or None,
                start_tls=config.starttls,
                timeout=config.timeout,
            )
        except Exception as exc:
            outcome = outcome_for(exc, f"{config.host}:{config.port}")
            log.info("email delivery %s to %s failed: %s", delivery.id, to, outcome.error)
            return outcome
        return Outcome(ok=True)


def _short(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 3] + "..."


def _reply(code: int, what: str, detail: str) -> Outcome:
    """An SMTP reply: 5xx is final, 4xx (and anything odd) is worth a retry."""
    known = 200 <= code < 600
    text = f"SMTP {code} {what}" if known else f"SMTP {what}"
    if detail.strip():
        text += f": {_short(detail)}"
    return Outcome(
        ok=False,
        temporary=not 500 <= code < 600,
        status_code=code if known else None,
        error=text,
    )


def outcome_for(exc: BaseException, server: str) -> Outcome:
    """Maps what aiosmtplib (or the socket under it) raised to an Outcome."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        what = "error"
        for kind, label in REPLY_LABELS:
            if isinstance(exc, kind):
                what = label
                break
        return _reply(exc.code, what, exc.message)
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        # e.g. STARTTLS or AUTH required by our config but not offered: a config problem.
        return Outcome(ok=False, error=f"SMTP server {server}: {_short(exc)}")
    if isinstance(exc, TimeoutError):  # includes aiosmtplib's SMTPTimeoutError
        return Outcome(ok=False, temporary=True, error=f"SMTP server {server} timed out")
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return Outcome(
            ok=False, temporary=True, error=f"SMTP server {server} closed the connection"
        )
    if isinstance(exc, OSError):  # SMTPConnectError, refused, DNS, TLS handshake
        reason = exc.__cause__ if isinstance(exc, aiosmtplib.SMTPConnectError) else exc
        if reason is None:
            reason = exc
        if isinstance(reason, ConnectionRefusedError) or (
            isinstance(reason, OSError) and reason.errno == errno.ECONNREFUSED
        ):
            detail = "connection refused"
        else:
            detail = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
        return Outcome(
            ok=False,
            temporary=True,
            error=f"cannot connect to SMTP server {server}: {_short(detail)}",
        )
    if isinstance(exc, aiosmtplib.SMTPException):
        return Outcome(ok=False, temporary=True, error=f"SMTP error: {_short(exc)}")
    return Outcome(ok=False, error=f"unexpected error: {type(exc).__name__}: {_short(exc)}")


REPLY_LABELS: tuple[tuple[type[aiosmtplib.SMTPResponseException], str], ...] = (
    (aiosmtplib.SMTPRecipientRefused, "recipient refused"),
    (aiosmtplib.SMTPSenderRefused, "sender refused"),
    (aiosmtplib.SMTPDataError, "message refused"),
    (aiosmtplib.SMTPAuthenticationError, "login failed"),
    (aiosmtplib.SMTPHeloError, "greeting refused"),
    (aiosmtplib.SMTPConnectResponseError, "server refused the connection"),
)
