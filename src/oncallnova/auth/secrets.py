"""Passwords (argon2id), access tokens (JWT, HS256 only) and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

API_TOKEN_PREFIX = "ocn_"  # noqa: S105 (a prefix, not a secret)
MIN_SECRET_BYTES = 32
_hasher = PasswordHasher()  # argon2id with the library's recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def dummy_check() -> None:
    """Spend the time of a real check, so unknown accounts answer as slowly as known ones."""
    check_password(_DUMMY, "not the password")


_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_jwt(
    secret: str, user_id: str, now: datetime, lifetime: timedelta, csrf: str, sid: str
) -> str:
    """An access token of the sign-in session `sid` (the session row decides whether it
    still works)."""
    claims = {
        "sub": user_id,
        "sid": sid,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "csrf": csrf,
        "typ": "access",
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def read_jwt(secret: str, token: str, now: datetime) -> dict[str, Any] | None:
    """The claims of a valid, unexpired HS256 token; None for anything else."""
    try:
        # Expiry is checked below against the injected clock, not the system time.
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"require": ["exp", "sub", "iat"], "verify_exp": False},
        )
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != "access" or int(claims["exp"]) <= int(now.timestamp()):
        return None
    return claims


def load_or_create_secret(configured: str | None, data_dir: Path) -> str:
    """`JWT_SECRET` if set (at least 32 bytes), else a random one kept in the data dir."""
    if configured:
        if len(configured.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long")
        return configured
    path = data_dir / "jwt_secret"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value
