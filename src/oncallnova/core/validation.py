"""Input rules shared by every schema and transport: text a database can store, and
instants that exist in UTC.

PostgreSQL refuses the NUL character in text and JSON, and no database can store an
unpaired UTF-16 surrogate; SQLite would store a NUL silently. So such text is bad input,
refused with a message naming where it is, the same on every database, before it
reaches one. Likewise an instant whose UTC form falls outside the representable years.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator

NUL = "\x00"
# The furthest a list may be paged: past it a query is a mistake, not a page (and the
# number would overflow a database's integer).
MAX_OFFSET = 10_000_000


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored, or None."""
    if NUL in text:
        return "must not contain the NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain an unpaired surrogate (\\ud800-\\udfff): it is not valid text"
    return None


def text_problems(value: object, where: str = "") -> list[str]:
    """One message per string in `value` (a decoded JSON document: keys too) that cannot
    be stored, naming its place as `a.b[2].c`."""
    problems: list[str] = []
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            problems.append(f"{where or 'body'}: {problem}")
    elif isinstance(value, dict):
        for key, item in value.items():
            place = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and (problem := text_problem(key)):
                problems.append(f"{where or 'body'} (key {key!r}): {problem}")
            problems.extend(text_problems(item, place))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            problems.extend(text_problems(item, f"{where}[{n}]"))
    return problems


def to_utc(value: datetime) -> datetime:
    """The instant in UTC; one without a zone is read as UTC. Raises ValueError (a 422
    through pydantic) when the UTC form is outside the years 1 to 9999."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is out of range once converted to UTC") from exc


# An instant from outside, validated and normalised to UTC.
UtcDatetime = Annotated[datetime, AfterValidator(to_utc)]

# Two days inside the ends of the calendar: any time zone's offset can be applied.
_EARLIEST = datetime.min + timedelta(days=2)
_LATEST = datetime.max - timedelta(days=2)


def within_calendar(value: datetime) -> datetime:
    """`value` unchanged, if it can be read in any time zone: a wall-clock reading (read
    later in some zone) or an instant too near year 1 or 9999 cannot."""
    if not _EARLIEST <= value.replace(tzinfo=None) <= _LATEST:
        raise ValueError("is too close to the ends of the calendar (years 1 and 9999)")
    if value.tzinfo is not None:
        to_utc(value)
    return value


# An instant or a wall-clock time kept as given (a schedule reads it in its own zone).
ZonedDatetime = Annotated[datetime, AfterValidator(within_calendar)]
