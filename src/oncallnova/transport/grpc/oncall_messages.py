"""Schedules on the wire: a restriction's days travel as numbers, 0 (Monday) to 6.

A schedule may have been written with day names ("mon", "Friday"); the contract carries
the number the name stands for, whichever form was given, so clients in any language
read one form. The names are read here, with the domain's own reading of them.
"""

from __future__ import annotations

from typing import TypeVar

from oncallnova.oncall import logic
from oncallnova.oncall.schedule_schemas import (
    LayerIn,
    RestrictionIn,
    ScheduleIn,
    ScheduleOut,
    SchedulePatch,
)

S = TypeVar("S", ScheduleIn, SchedulePatch, ScheduleOut)


def numbered_days(schedule: S) -> S:
    """`schedule` with its layers' restriction days as numbers (other fields as given,
    so a patch still names the fields it sets)."""
    if schedule.layers is None:
        return schedule
    layers = [_layer(layer) for layer in schedule.layers]
    return schedule.model_copy(update={"layers": layers})


def _layer(layer: LayerIn) -> LayerIn:
    return layer.model_copy(update={"restrictions": [_days(r) for r in layer.restrictions]})


def _days(restriction: RestrictionIn) -> RestrictionIn:
    days = {
        name: logic.parse_day(day, name)
        for name in ("start_day", "end_day")
        if (day := getattr(restriction, name)) is not None
    }
    return restriction.model_copy(update=days)
