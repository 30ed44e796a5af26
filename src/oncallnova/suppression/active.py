"""The silences and windows that have not ended, as ingestion and escalation ask them.

Ingestion reads them once per batch at most: a process keeps what it read for
`cache_seconds` (`SILENCE_CACHE_SECONDS`), so the hot path costs no query in the common
case. A change made in this process is seen at once (the cache is dropped when it
commits); one made in another process within `cache_seconds`. The escalation engine
reads them fresh before it pages, so no page goes out under a silence or a window that
exists, whichever process created it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.suppression import matchers, store
from oncallnova.suppression.matchers import Matcher


@dataclass(frozen=True, slots=True)
class LiveSilence:
    id: str
    service_id: str | None
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    comment: str


@dataclass(frozen=True, slots=True)
class LiveWindow:
    id: str
    service_ids: frozenset[str]
    starts_at: datetime
    ends_at: datetime
    description: str


class ActiveView:
    """Implements `incidents.api.QuietView`."""

    def __init__(self, silences: list[LiveSilence], windows: list[LiveWindow]) -> None:
        self._silences = sorted(silences, key=lambda s: s.id)
        self._windows = sorted(windows, key=lambda w: w.id)
        self._by_id = {s.id: s.comment for s in silences}
        self._window_by_id = {w.id: w.description for w in windows}

    @property
    def has_silences(self) -> bool:
        return bool(self._silences)

    def window_for(self, service_id: str, now: datetime) -> str | None:
        for window in self._windows:
            if window.starts_at <= now < window.ends_at and service_id in window.service_ids:
                return window.id
        return None

    def silence_for(
        self,
        service_id: str,
        labels: Mapping[str, str],
        title: str,
        severity: str,
        source: str | None,
        now: datetime,
    ) -> str | None:
        if not self._silences:
            return None
        compared = matchers.alert_labels(labels, title, severity, source)
        for silence in self._silences:
            if (
                silence.starts_at <= now < silence.ends_at
                and silence.service_id in (None, service_id)
                and matchers.all_match(silence.matchers, compared)
            ):
                return silence.id
        return None

    def note(self, *, silence_id: str | None, window_id: str | None) -> str | None:
        if silence_id is not None:
            comment = self._by_id.get(silence_id, "")
            return f"Silenced ({_quote(comment)}): nobody is paged while the silence lasts"
        if window_id is not None:
            description = self._window_by_id.get(window_id, "")
            return f"In maintenance ({_quote(description)}): nobody is paged until the window ends"
        return None


def _quote(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"'{first[:120]}'" if first else "no comment"


async def load(session: AsyncSession, now: datetime) -> ActiveView:
    silences, windows, services = await store.live(session, now)
    return ActiveView(
        [
            LiveSilence(
                s.id,
                s.service_id,
                matchers.compile_all(s.matchers),
                s.starts_at,
                s.ends_at,
                s.comment,
            )
            for s in silences
        ],
        [
            LiveWindow(w.id, frozenset(services[w.id]), w.starts_at, w.ends_at, w.description)
            for w in windows
        ],
    )


class QuietCache:
    """Implements `incidents.api.QuietSource`."""

    def __init__(self, cache_seconds: float) -> None:
        self._seconds = cache_seconds
        self._view: ActiveView | None = None
        self._until = 0.0

    def forget(self) -> None:
        """Drop what is cached (a silence or window changed in this process)."""
        self._view = None

    async def view(
        self, session: AsyncSession, now: datetime, *, fresh: bool = False
    ) -> ActiveView:
        if not fresh and self._view is not None and time.monotonic() < self._until:
            return self._view
        view = await load(session, now)
        self._view, self._until = view, time.monotonic() + self._seconds
        return view
