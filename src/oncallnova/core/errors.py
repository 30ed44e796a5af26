"""Domain errors; transports map them to status codes."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a use case raises on purpose."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    """The request is well formed but the current state forbids it."""


class InvalidInput(DomainError):
    pass


class Unauthenticated(DomainError):
    pass


class Forbidden(DomainError):
    """Authenticated, but the role does not allow this."""


class RetryLater(DomainError):
    """Nothing was done, and the same request may succeed after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Overloaded(RetryLater):
    """Too much work is queued; the caller should retry later (HTTP 429)."""


class Unavailable(RetryLater):
    """A part this request needs (the database, another role) cannot be reached now
    (HTTP 503)."""
