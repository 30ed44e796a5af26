"""Pure scheduling core: who is on call at any instant. No I/O, no clock, no framework.

Everything takes explicit, timezone-aware instants and returns UTC instants. The model
lives in `model`, turn arithmetic (and how DST gaps and repeats are resolved) in
`rotation`, restriction windows in `restrictions`, layering in `layers`; this module
is the one place other code imports from.
"""

from __future__ import annotations

from oncallnova.oncall.layers import (
    Segment,
    final_shifts,
    layer_shifts,
    layer_user_at,
    next_change,
    oncall_at,
    segments,
    shifts_overlapping,
)
from oncallnova.oncall.model import (
    OVERRIDE_SOURCE,
    Layer,
    Override,
    Restriction,
    Schedule,
    Shift,
    Turn,
    parse_clock,
    parse_day,
    require_aware,
    validate_time_zone,
    validate_turn,
    validate_users,
)
from oncallnova.oncall.rotation import resolve_local

__all__ = [
    "OVERRIDE_SOURCE",
    "Layer",
    "Override",
    "Restriction",
    "Schedule",
    "Segment",
    "Shift",
    "Turn",
    "final_shifts",
    "layer_shifts",
    "layer_user_at",
    "next_change",
    "oncall_at",
    "parse_clock",
    "parse_day",
    "require_aware",
    "resolve_local",
    "segments",
    "shifts_overlapping",
    "validate_time_zone",
    "validate_turn",
    "validate_users",
]
