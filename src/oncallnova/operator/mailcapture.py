"""Reading what an SMTP capture server caught, through its HTTP API: MailHog
(`/api/v2/messages`, what the Compose deployment runs) and MailDev (`/api/email`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str


def _mailhog(items: list[dict[str, Any]]) -> list[Mail]:
    mails = []
    for item in items:
        headers = item.get("Content", {}).get("Headers", {})
        to = tuple(
            f"{r.get('Mailbox')}@{r.get('Domain')}".lower() for r in item.get("To") or []
        ) or tuple(t.lower() for t in headers.get("To", []))
        mails.append(Mail(to, (headers.get("Subject") or [""])[0]))
    return mails


def _maildev(items: list[dict[str, Any]]) -> list[Mail]:
    return [
        Mail(
            tuple(str(r.get("address", "")).lower() for r in i.get("to") or []),
            i.get("subject", ""),
        )
        for i in items
    ]


def messages(api_url: str) -> list[Mail]:
    """Every captured message; an error names the URL when neither API answers."""
    base = api_url.rstrip("/")
    with httpx.Client(timeout=5) as http:
        hog = http.get(f"{base}/api/v2/messages", params={"limit": 250})
        if hog.status_code == 200 and isinstance(hog.json(), dict):
            return _mailhog(hog.json().get("items") or [])
        dev = http.get(f"{base}/api/email")
        if dev.status_code == 200 and isinstance(dev.json(), list):
            return _maildev(dev.json())
    raise httpx.HTTPError(f"{base} answers neither MailHog's nor MailDev's API")


def find(api_url: str, address: str, subject_part: str) -> Mail | None:
    for mail in messages(api_url):
        if address.lower() in mail.to and subject_part in mail.subject:
            return mail
    return None
