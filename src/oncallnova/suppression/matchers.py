"""Label matchers, as Alertmanager's silences use them (pure functions, no I/O).

A silence holds a list of matchers, all of which must match an alert (AND). Each compares
one label: `=` equal, `!=` not equal, `=~` the whole value matches a regular expression,
`!~` it does not. A label the alert does not have reads as the empty string, as in
Alertmanager. Regular expressions are anchored at both ends (`fullmatch`) and use RE2,
Alertmanager's syntax; RE2 also matches in linear time, so no pattern can stall the
ingestion writer that matches every new alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import re2

OPS = ("=", "!=", "=~", "!~")
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a bad pattern is the user's 422, not a line on stderr
# The alert's own fields stand in for labels of these names when it has no such label,
# so alerts sent without labels can be silenced by title, severity or source too.
FIELD_LABELS = ("title", "severity", "source")


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    op: str
    value: str
    pattern: Any = None  # a compiled RE2 pattern for =~ and !~

    @classmethod
    def of(cls, name: str, op: str, value: str) -> Matcher:
        """Raises ValueError for an unknown op or a regular expression that does not compile."""
        if op not in OPS:
            raise ValueError(f"op must be one of {', '.join(OPS)}")
        pattern = None
        if op in ("=~", "!~"):
            try:
                pattern = re2.compile(value, options=_OPTIONS)
            except re2.error as exc:
                problem = exc.args[0] if exc.args else exc
                if isinstance(problem, bytes):
                    problem = problem.decode(errors="replace")
                raise ValueError(f"not a valid regular expression: {problem}") from exc
        return cls(name, op, value, pattern)

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        assert self.pattern is not None
        found = self.pattern.fullmatch(actual) is not None
        return found if self.op == "=~" else not found


def compile_all(items: Iterable[Mapping[str, str]]) -> tuple[Matcher, ...]:
    """Matchers from stored `{"name", "op", "value"}` items."""
    return tuple(Matcher.of(i["name"], i["op"], i["value"]) for i in items)


def all_match(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


def matches_everything(matchers: Iterable[Matcher]) -> bool:
    """Whether the matchers would match an alert with no labels at all. Alertmanager
    refuses such a silence (it would silence every alert), and so does OnCallNova."""
    return all_match(matchers, {})


def alert_labels(
    labels: Mapping[str, str] | None, title: str, severity: str, source: str | None
) -> dict[str, str]:
    """What matchers compare: the alert's labels, over its title, severity and source."""
    fields = {"title": title, "severity": severity, "source": source or ""}
    return {**fields, **(labels or {})}
