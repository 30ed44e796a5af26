"""Pure rules of analytics: parameters, time buckets in a zone, percentiles, histograms.

No I/O here, so the tricky parts (days of 23 or 25 hours, nearest rank) are unit tested
directly.

Time buckets. A bucket starts at a local wall-clock mark of the requested zone: 1d at
local midnight, 1w at local midnight on Monday, 6h at local 00:00, 06:00, 12:00 and 18:00.
Their length follows the calendar, so the day a zone moves its clocks forward is a
23-hour bucket and the day it moves them back a 25-hour one. 1h buckets are consecutive
hours (3600 s each) starting at a local full hour, so the hour a fall-back repeats is two
buckets, not one merged bucket. A wall-clock mark that does not exist (skipped by a
forward change) starts its bucket at the first instant that does.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from oncallnova.core.errors import InvalidInput
from oncallnova.core.vocab import SEVERITIES

MAX_DAYS = 366
MAX_BUCKETS = 10_000
DEFAULT_PERIOD = "7d"
BUCKETS = {"1h": timedelta(hours=1), "6h": timedelta(hours=6), "1d": timedelta(days=1)}
BUCKETS["1w"] = timedelta(weeks=1)
PERCENTILES = (50, 90, 99)
# Upper edges (seconds) of the MTTA/MTTR histogram; a last bin, "+Inf", takes the rest.
HISTOGRAM_EDGES = (60, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600)
_PERIOD = re.compile(r"(\d{1,5})([hdw])")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_period(period: str | None, days: int | None) -> timedelta:
    """`period` like 24h, 7d or 2w, or `days` as a number; not both; at most 366 days."""
    if period is not None and days is not None:
        raise InvalidInput("give either period or days, not both", field="days")
    if days is not None:
        if not 1 <= days <= MAX_DAYS:
            raise InvalidInput(f"days must be between 1 and {MAX_DAYS}", field="days")
        return timedelta(days=days)
    text = DEFAULT_PERIOD if period is None else period.strip()
    match = _PERIOD.fullmatch(text)
    if match is None:
        raise InvalidInput(
            f"period '{text}' is not a number followed by h, d or w (e.g. 24h, 7d, 2w)",
            field="period",
        )
    length = int(match.group(1)) * _UNITS[match.group(2)]
    if not timedelta(hours=1) <= length <= timedelta(days=MAX_DAYS):
        raise InvalidInput(f"period must be between 1h and {MAX_DAYS}d", field="period")
    return length


def parse_bucket(bucket: str) -> str:
    if bucket not in BUCKETS:
        raise InvalidInput(f"bucket '{bucket}' is not one of {', '.join(BUCKETS)}", field="bucket")
    return bucket


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone such as Europe/Paris."""
    problem = InvalidInput(f"unknown time zone '{name[:64]}' (use an IANA name)", field="tz")
    if not name or len(name) > 64:
        raise problem
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory such as "Europe"
        raise problem from None


def parse_severities(values: Iterable[str] | None) -> tuple[str, ...]:
    """Repeated values, each possibly comma-separated; empty means every severity."""
    chosen: list[str] = []
    for value in values or ():
        for item in value.split(","):
            name = item.strip().lower()
            if name not in SEVERITIES:
                raise InvalidInput(
                    f"severity '{item}' is not one of {', '.join(SEVERITIES)}", field="severity"
                )
            if name not in chosen:
                chosen.append(name)
    return tuple(chosen)


def _wall_to_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """A naive local wall time as a UTC instant; a skipped time maps to the change."""
    return wall.replace(tzinfo=zone).astimezone(UTC)


def _floor_wall(local: datetime, bucket: str) -> datetime:
    """The naive local wall-clock mark that starts the bucket holding `local`."""
    wall = local.replace(minute=0, second=0, microsecond=0, tzinfo=None, fold=0)
    if bucket == "6h":
        return wall.replace(hour=wall.hour - wall.hour % 6)
    midnight = wall.replace(hour=0)
    if bucket == "1w":
        return midnight - timedelta(days=midnight.weekday())
    return midnight


def bucket_edges(
    start: datetime, end: datetime, bucket: str, zone: ZoneInfo, *, limit: int = MAX_BUCKETS
) -> list[datetime]:
    """UTC edges of the buckets that cover [start, end]: bucket i is [edges[i], edges[i+1]).

    The first bucket holds `start` (so it may begin before it) and the last holds `end`.
    More than `limit` buckets is refused, naming the bucket parameter.
    """
    if (end - start) / BUCKETS[bucket] > limit + 1:
        raise _too_many(end - start, bucket, limit)
    local = start.astimezone(zone)
    if bucket == "1h":
        first = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        while first > start:  # a zone whose offset is not whole hours at a change
            first -= BUCKETS["1h"]
        count = int((end - first) // BUCKETS["1h"]) + 2
        edges = [first + i * BUCKETS["1h"] for i in range(count)]
    else:
        wall = _floor_wall(local, bucket)
        edges = []
        step = 0
        while not edges or edges[-1] <= end:
            instant = _wall_to_instant(wall + step * BUCKETS[bucket], zone)
            if not edges or instant > edges[-1]:
                edges.append(instant)
            step += 1
    if len(edges) - 1 > limit:
        raise _too_many(end - start, bucket, limit)
    return edges


def _too_many(length: timedelta, bucket: str, limit: int) -> InvalidInput:
    return InvalidInput(
        f"a period of {length} in {bucket} buckets makes more than {limit} buckets; "
        "choose a larger bucket or a shorter period",
        field="bucket",
    )


def slot_seconds(edges: Sequence[datetime]) -> int:
    """The longest span that divides every bucket: the database counts rows per slot
    of this many seconds from edges[0], and no slot straddles two buckets."""
    spans = [round((edge - edges[0]).total_seconds()) for edge in edges[1:]]
    return math.gcd(*spans) or 1


def bucket_of_slot(edges: Sequence[datetime], slot: int, index: int) -> int:
    """Which bucket the slot numbered `index` (from edges[0]) lies in."""
    return bisect_right(edges, edges[0] + timedelta(seconds=slot * index)) - 1


def nearest_rank(count: int, percent: int) -> int:
    """1-based rank of the `percent`-th percentile among `count` sorted values:
    ceil(percent / 100 * count), at least 1 (the nearest-rank method). The store computes
    the same rank in SQL as (percent * count + 99) / 100 in integers."""
    return max(1, (percent * count + 99) // 100)


def percentile(ordered: Sequence[float], percent: int) -> float | None:
    """The nearest-rank percentile of values sorted ascending; None when there are none."""
    if not ordered:
        return None
    return ordered[nearest_rank(len(ordered), percent) - 1]


def histogram_bin(seconds: float) -> int:
    """Index of the bin holding `seconds`: the first edge e with seconds <= e, else the
    last ("+Inf") bin. Bins do not overlap: bin i counts edges[i-1] < x <= edges[i]."""
    for index, edge in enumerate(HISTOGRAM_EDGES):
        if seconds <= edge:
            return index
    return len(HISTOGRAM_EDGES)
