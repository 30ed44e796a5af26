"""Identifiers and secrets."""

from __future__ import annotations

import secrets
import uuid


def new_id() -> str:
    return str(uuid.uuid4())


def new_integration_key() -> str:
    """32 characters from a URL-safe alphabet, ~190 bits of randomness."""
    return secrets.token_urlsafe(24)


def new_secret() -> str:
    """A URL-safe secret of 256 bits, for feed URLs and the like."""
    return secrets.token_urlsafe(32)
