"""Messages that name the field: validation errors, and warnings for unknown fields."""

from __future__ import annotations

import difflib

from pydantic import BaseModel, ValidationError


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


def unknown_fields(model: BaseModel, prefix: str = "") -> list[str]:
    """A warning per field `model` (and the models inside it) did not know, naming it and
    the known field it most likely meant: a typo such as `dedupkey` is accepted, but the
    sender sees that it was ignored. Models that keep extras (`extra="allow"`) only."""
    warnings: list[str] = []
    known = list(type(model).model_fields)
    for name in model.model_extra or {}:
        where = f"{prefix}.{name}" if prefix else name
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        warnings.append(f"{where}: unknown field, ignored{hint}")
    for name in known:
        value = getattr(model, name)
        where = f"{prefix}.{name}" if prefix else name
        if isinstance(value, BaseModel):
            warnings.extend(unknown_fields(value, where))
        elif isinstance(value, list):
            for n, item in enumerate(value):
                if isinstance(item, BaseModel):
                    warnings.extend(unknown_fields(item, f"{where}[{n}]"))
    return warnings
