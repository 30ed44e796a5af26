"""The converter's conventions, message by message: oneofs, patches and their masks,
times kept as written, enum members, empty lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from oncallnova.analytics.schemas import HistogramBin
from oncallnova.core.authz import Principal, Role
from oncallnova.core.errors import InvalidInput
from oncallnova.oncall.schedule_schemas import LayerIn, ScheduleIn, SchedulePatch
from oncallnova.services.schemas import ServiceIn, ServicePatch
from oncallnova.transport.grpc.convert import from_message, request_value, to_dict, to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import analytics_pb2, auth_pb2, catalog_pb2
from oncallnova.transport.grpc.gen.oncallnova.v1 import oncall_pb2 as pb


@pytest.mark.parametrize("turn", ["daily", 36.0, 0.5])
def test_a_oneof_is_one_value_in_the_member_that_takes_it(turn: str | float) -> None:
    layer = LayerIn(name="l", users=["u"], turn=turn, handoff=datetime(2026, 1, 5, 9, 0))
    message = to_message(layer, pb.Layer)
    assert message.WhichOneof("turn") == ("named_turn" if isinstance(turn, str) else "turn_hours")
    assert "named_turn" not in to_dict(message) and to_dict(message)["turn"] == turn
    assert from_message(message, LayerIn) == layer


def test_a_oneof_of_a_number_or_a_label() -> None:
    for le in (300, "+Inf"):
        message = to_message(HistogramBin(le=le, count=2), analytics_pb2.HistogramBin)
        assert from_message(message, HistogramBin) == HistogramBin(le=le, count=2)
    with pytest.raises(ValueError, match="fits none"):
        to_message({"le": [1], "count": 1}, analytics_pb2.HistogramBin)


def test_zoned_times_travel_as_written() -> None:
    """A wall-clock time stays one (the schedule reads it in its own zone), and an
    offset is kept."""
    paris = timezone(timedelta(hours=1))
    for handoff in (datetime(2026, 1, 5, 9, 0), datetime(2026, 1, 5, 9, 0, tzinfo=paris)):
        layer = LayerIn(name="l", users=["u"], turn="daily", handoff=handoff)
        back = from_message(to_message(layer, pb.Layer), LayerIn).handoff
        assert (back, back.utcoffset()) == (handoff, handoff.utcoffset())


def test_a_patch_names_the_fields_it_sets() -> None:
    patch = SchedulePatch(description=None, layers=[], name="new")
    message = to_message(patch, pb.SchedulePatch)
    assert sorted(message.update_mask.paths) == ["description", "layers", "name"]
    back = request_value(message, SchedulePatch)
    assert back.model_fields_set == {"description", "layers", "name"}
    assert (back.description, back.layers, back.name) == (None, [], "new")
    # Not named: not set, so not changed.
    untouched = request_value(to_message(SchedulePatch(name="n"), pb.SchedulePatch), SchedulePatch)
    assert untouched.model_fields_set == {"name"}


def test_a_list_given_as_null_is_not_in_the_mask() -> None:
    """A list cannot be null on the wire: given as None it is left alone, as every
    patch treats a null list."""
    message = to_message(ServicePatch(correlation_key=None, team_id=None), catalog_pb2.ServicePatch)
    assert list(message.update_mask.paths) == ["team_id"]
    assert request_value(message, ServicePatch).model_fields_set == {"team_id"}


def test_a_patch_without_a_mask_sets_what_it_carries() -> None:
    """As a client in another language may send it."""
    message = catalog_pb2.ServicePatch(name="shop", correlation_window_seconds=0)
    patch = request_value(message, ServicePatch)
    assert patch.model_fields_set == {"name", "correlation_window_seconds"}


def test_a_mask_naming_no_field_is_refused_by_name() -> None:
    message = pb.SchedulePatch(update_mask={"paths": ["colour"]})
    with pytest.raises(InvalidInput) as refused:
        request_value(message, SchedulePatch)
    assert refused.value.field == "colour"


def test_an_empty_list_takes_the_models_default() -> None:
    message = to_message(ServiceIn(name="shop"), catalog_pb2.ServiceIn)
    assert request_value(message, ServiceIn).correlation_key is None
    sent = ScheduleIn(name="s")
    assert request_value(to_message(sent, pb.ScheduleIn), ScheduleIn) == sent


def test_an_int_enum_travels_by_its_name() -> None:
    who = Principal(user_id="u", name="n", email="e", role=Role.responder, via="jwt")
    message = to_message(who, auth_pb2.Principal)
    assert (
        auth_pb2.Principal.DESCRIPTOR.fields_by_name["role"]
        .enum_type.values_by_number[message.role]
        .name
        == "ROLE_RESPONDER"
    )
    assert to_dict(message)["role"] == "responder"


def test_a_timestamp_is_an_aware_instant() -> None:
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    message = to_message({"schedule_id": "s", "at": at}, pb.WhoIsOnCallAtRequest)
    assert to_dict(message)["at"] == at
