"""Webhook signatures: `v1=<hex HMAC-SHA256(secret, raw body)>`, one per valid secret.

A receiver computes the HMAC of the raw request body with its secret and accepts the
request when any `v1=` value of `X-OnCallNova-Signature` matches (constant-time compare).
"""

from __future__ import annotations

import hashlib
import hmac


def sign(secret: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], body: bytes) -> str:
    return ",".join(sign(secret, body) for secret in secrets)


def verify(secret: str, body: bytes, header: str) -> bool:
    expected = sign(secret, body)
    return any(hmac.compare_digest(expected, part.strip()) for part in header.split(","))
