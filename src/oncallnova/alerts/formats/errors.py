"""Turns pydantic validation errors into messages that name the field."""

from __future__ import annotations

from pydantic import ValidationError


def field_messages(exc: ValidationError, prefix: str = "") -> list[str]:
    messages = []
    for error in exc.errors(include_url=False):
        location = prefix
        for part in error["loc"]:
            if isinstance(part, int):
                location += f"[{part}]"
            else:
                location += f".{part}" if location else str(part)
        message = error["msg"]
        messages.append(f"{location}: {message}" if location else message)
    return messages
