"""The database outage log: one line when it stops answering, one when it is back."""

from __future__ import annotations

import logging

import pytest

from oncallnova.core.db import STRAGGLER_SECONDS, Outage


def test_one_outage_is_logged_once_even_with_a_late_failure_after_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [100.0]
    outage = Outage(clock=lambda: now[0])
    refused = ConnectionRefusedError("connection refused")
    with caplog.at_level(logging.WARNING, logger="oncallnova.db"):
        outage.failed(refused)
        now[0] += 2
        outage.failed(refused)
        assert outage.down and outage.failures == 2
        outage.on_checkout()
        assert not outage.down
        # An attempt made while the database was still starting fails after another
        # succeeded: part of the outage that ended, not a new one.
        outage.failed(ConnectionError("the database system is starting up"))
        assert not outage.down
        now[0] += STRAGGLER_SECONDS
        outage.failed(refused)  # a second outage is one
        assert outage.down
    lines = [r.getMessage() for r in caplog.records]
    assert [line.split(" (")[0].split(" after")[0] for line in lines] == [
        "database unavailable",
        "database available again",
        "database unavailable",
    ]
    assert "after 2.0 s (2 requests or passes failed meanwhile)" in lines[1]
