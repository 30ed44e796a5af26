"""The words every domain shares: severities, most severe first."""

from __future__ import annotations

SEVERITIES = ("critical", "high", "medium", "low")
# Higher is worse; an unknown name ranks below every known one.
SEVERITY_RANK = {name: len(SEVERITIES) - n for n, name in enumerate(SEVERITIES)}


def most_severe(a: str, b: str) -> str:
    """The worse of two severities (`a` when they are equal)."""
    return b if SEVERITY_RANK.get(b, 0) > SEVERITY_RANK.get(a, 0) else a
