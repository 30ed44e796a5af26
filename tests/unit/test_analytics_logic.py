"""Pure analytics rules: parameters, buckets in a time zone, nearest-rank, histogram bins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from oncallnova.analytics import logic
from oncallnova.core.errors import InvalidInput

PARIS = ZoneInfo("Europe/Paris")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def hours(edges: list[datetime]) -> list[float]:
    return [(b - a).total_seconds() / 3600 for a, b in pairwise(edges)]


@pytest.mark.parametrize(
    ("period", "days", "expected"),
    [
        (None, None, timedelta(days=7)),
        ("24h", None, timedelta(hours=24)),
        ("7d", None, timedelta(days=7)),
        ("2w", None, timedelta(weeks=2)),
        ("366d", None, timedelta(days=366)),
        (None, 30, timedelta(days=30)),
    ],
)
def test_periods(period: str | None, days: int | None, expected: timedelta) -> None:
    assert logic.parse_period(period, days) == expected


@pytest.mark.parametrize(
    ("period", "days", "field"),
    [
        ("7x", None, "period"),
        ("d7", None, "period"),
        ("", None, "period"),
        ("367d", None, "period"),
        ("53w", None, "period"),
        ("0h", None, "period"),
        (None, 0, "days"),
        (None, 367, "days"),
        ("7d", 7, "days"),
    ],
)
def test_bad_periods_name_the_parameter(period: str | None, days: int | None, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        logic.parse_period(period, days)
    assert caught.value.field == field


def test_bucket_zone_and_severity_parameters() -> None:
    assert logic.parse_bucket("6h") == "6h"
    for name in ("2h", "1m", "", "1D"):
        with pytest.raises(InvalidInput) as caught:
            logic.parse_bucket(name)
        assert caught.value.field == "bucket"
    assert logic.parse_zone("Europe/Paris") == PARIS
    for name in ("Mars/Olympus", "Europe", "../etc/passwd", "", "x" * 100, "a\x00b"):
        with pytest.raises(InvalidInput) as caught:
            logic.parse_zone(name)
        assert caught.value.field == "tz"
    assert logic.parse_severities(None) == ()
    assert logic.parse_severities(["critical", "High,low", "critical"]) == (
        "critical",
        "high",
        "low",
    )
    with pytest.raises(InvalidInput) as caught:
        logic.parse_severities(["urgent"])
    assert caught.value.field == "severity"


def test_hourly_buckets_in_utc_cover_the_range() -> None:
    edges = logic.bucket_edges(
        utc(2026, 3, 1, 9, 30), utc(2026, 3, 1, 12, 0), "1h", ZoneInfo("UTC")
    )
    assert edges == [utc(2026, 3, 1, h) for h in (9, 10, 11, 12, 13)]
    assert logic.slot_seconds(edges) == 3600


def test_daily_buckets_follow_local_midnight_across_spring_forward() -> None:
    edges = logic.bucket_edges(utc(2026, 3, 27, 12), utc(2026, 3, 30, 12), "1d", PARIS)
    assert [e.astimezone(PARIS).strftime("%d %H:%M") for e in edges] == [
        "27 00:00",
        "28 00:00",
        "29 00:00",
        "30 00:00",
        "31 00:00",
    ]
    assert hours(edges) == [24, 24, 23, 24]
    assert edges[3] == utc(2026, 3, 29, 22)  # 23:30 UTC on the 29th is the 30th in Paris
    assert logic.slot_seconds(edges) == 3600


def test_daily_buckets_across_fall_back_and_weeks_start_monday() -> None:
    edges = logic.bucket_edges(utc(2026, 10, 24, 12), utc(2026, 10, 26, 12), "1d", PARIS)
    assert hours(edges) == [24, 25, 24]
    weeks = logic.bucket_edges(utc(2026, 3, 25), utc(2026, 4, 1), "1w", PARIS)
    assert [e.astimezone(PARIS).strftime("%a %d %H:%M") for e in weeks] == [
        "Mon 23 00:00",
        "Mon 30 00:00",
        "Mon 06 00:00",
    ]
    assert hours(weeks) == [167, 168]


def test_six_hour_buckets_keep_local_marks_and_hourly_ones_stay_consecutive() -> None:
    six = logic.bucket_edges(utc(2026, 10, 24, 23), utc(2026, 10, 25, 6), "6h", PARIS)
    assert [e.astimezone(PARIS).strftime("%d %H") for e in six] == ["25 00", "25 06", "25 12"]
    assert hours(six) == [7, 6]  # the repeated hour falls in the first bucket
    one = logic.bucket_edges(utc(2026, 10, 24, 23, 10), utc(2026, 10, 25, 2, 10), "1h", PARIS)
    assert hours(one) == [1, 1, 1, 1]
    local = [e.astimezone(PARIS).strftime("%H:%M%z") for e in one]
    assert local == ["01:00+0200", "02:00+0200", "02:00+0100", "03:00+0100", "04:00+0100"]


def test_half_hour_zones_and_a_skipped_midnight() -> None:
    kolkata = logic.bucket_edges(
        utc(2026, 3, 1, 0, 40), utc(2026, 3, 1, 2), "1h", ZoneInfo("Asia/Kolkata")
    )
    assert kolkata == [utc(2026, 3, 1, 0, 30), utc(2026, 3, 1, 1, 30), utc(2026, 3, 1, 2, 30)]
    assert logic.slot_seconds(kolkata) == 3600
    # Santiago moves from 00:00 straight to 01:00 on 2026-09-06: that day starts at 01:00
    # and lasts 23 hours.
    santiago = ZoneInfo("America/Santiago")
    days = logic.bucket_edges(utc(2026, 9, 5, 12), utc(2026, 9, 6, 12), "1d", santiago)
    assert days == [utc(2026, 9, 5, 4), utc(2026, 9, 6, 4), utc(2026, 9, 7, 3)]
    assert logic.slot_seconds(days) == 3600


def test_too_many_buckets_names_the_bucket() -> None:
    start = utc(2026, 1, 1)
    assert len(logic.bucket_edges(start, start + timedelta(days=366), "1h", PARIS)) - 1 <= 8785
    with pytest.raises(InvalidInput) as caught:
        logic.bucket_edges(start, start + timedelta(hours=10), "1h", PARIS, limit=5)
    assert caught.value.field == "bucket"
    assert "more than 5 buckets" in caught.value.message
    with pytest.raises(InvalidInput):
        logic.bucket_edges(start, start + timedelta(days=2), "6h", PARIS, limit=5)


def test_slots_map_to_their_bucket() -> None:
    edges = logic.bucket_edges(utc(2026, 3, 28, 12), utc(2026, 3, 30, 12), "1d", PARIS)
    slot = logic.slot_seconds(edges)
    assert slot == 3600
    # slot n starts n hours after edges[0] (2026-03-27 23:00 UTC)
    assert logic.bucket_of_slot(edges, slot, 0) == 0
    assert logic.bucket_of_slot(edges, slot, 23) == 0
    assert logic.bucket_of_slot(edges, slot, 24) == 1
    assert logic.bucket_of_slot(edges, slot, 24 + 22) == 1  # 23-hour day
    assert logic.bucket_of_slot(edges, slot, 24 + 23) == 2


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 11)]
    assert [logic.percentile(values, p) for p in (50, 90, 99)] == [5.0, 9.0, 10.0]
    assert [logic.nearest_rank(n, 50) for n in (1, 2, 3, 4)] == [1, 1, 2, 2]
    assert [logic.nearest_rank(n, 99) for n in (1, 99, 100, 101)] == [1, 99, 99, 100]
    assert logic.percentile([7.0], 99) == 7.0
    assert logic.percentile([], 50) is None


def test_histogram_bins_are_upper_inclusive() -> None:
    assert [logic.histogram_bin(x) for x in (0, 60, 60.5, 300, 3600, 14400, 86400, 86401)] == [
        0,
        0,
        1,
        1,
        4,
        5,
        6,
        7,
    ]
