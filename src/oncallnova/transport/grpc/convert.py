"""Typed values to protobuf messages and back, by field name.

The contracts in `proto/` name their fields as the domain's pydantic models and
dataclasses do, so one walk over a message's descriptor converts any of them: a field
takes the value of the same name. The conventions that make this work, and that the
.proto files follow:

- An enum field carries the domain's word in upper case behind the enum's prefix:
  `severity: "critical"` is `SEVERITY_CRITICAL`; the `..._UNSPECIFIED` value is "not
  set" (None).
- `google.protobuf.Timestamp` is an aware `datetime` (UTC), `google.protobuf.Struct` a
  JSON object. A Struct holds every number as a double, so integral numbers come back
  as `int` (as the JSON they were sent in had them).
- A message field unset, or an `optional` scalar not present, is None. proto3 cannot
  tell an empty list or map from an absent one, so where a model field has a
  default, an empty one is unset too: the field takes its default.
- A `string` field given a `datetime` carries it as ISO 8601: for times that may lack
  an offset (a wall-clock time a schedule reads in its own zone) or must keep theirs.
  The model's `datetime` field parses it back.
- A `oneof` is one value of the model, named as the oneof: it travels in the first
  member whose type takes it (`turn`: "daily" in `named_turn`, 36.0 in `turn_hours`).
- A patch message has a `google.protobuf.FieldMask update_mask`: the fields the model
  was given (`model_fields_set`), so a field named there and absent is set to null,
  as `{"description": null}` in an HTTP PATCH clears it. A list cannot be null on the
  wire, so a list given as None is left out of the mask (not changed). Without a mask
  (a client in another language), the fields present are the ones set.
- An `Enum` member travels by its name (`Role.admin` is `ROLE_ADMIN`).

Where a message nests what a model keeps flat (or the reverse), the call site reshapes
the dict before or after; nothing else is special.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar, overload

from google.protobuf import field_mask_pb2, struct_pb2, timestamp_pb2
from google.protobuf.descriptor import (
    Descriptor,
    EnumDescriptor,
    FieldDescriptor,
    OneofDescriptor,
)
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from pydantic import BaseModel, TypeAdapter, ValidationError

from oncallnova.core.errors import InvalidInput

M = TypeVar("M", bound=Message)
T = TypeVar("T")

_TIMESTAMP = timestamp_pb2.Timestamp.DESCRIPTOR.full_name
_STRUCT = struct_pb2.Struct.DESCRIPTOR.full_name
_MASK = field_mask_pb2.FieldMask.DESCRIPTOR.full_name
UPDATE_MASK = "update_mask"
_MAX_EXACT = 2**53
_adapters: dict[Any, TypeAdapter[Any]] = {}


def as_dict(value: object) -> dict[str, Any]:
    """A model's, a dataclass's or a mapping's fields as a dict (values kept as they are)."""
    if isinstance(value, BaseModel):
        kind = type(value)
        return {
            name: getattr(value, name) for name in (*kind.model_fields, *kind.model_computed_fields)
        }
    if is_dataclass(value) and not isinstance(value, type):
        return {k: getattr(value, k) for k in asdict(value)}
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot convert {type(value).__name__} to a message")


def to_message(value: object, cls: type[M]) -> M:
    """`value` (a model, a dataclass or a dict) as a `cls` message."""
    message = cls()
    fill(message, _fields(value, message.DESCRIPTOR))
    return message


def _fields(value: object, descriptor: Descriptor) -> dict[str, Any]:
    """`as_dict(value)`, with the patch's mask when the message has one."""
    data = as_dict(value)
    mask = descriptor.fields_by_name.get(UPDATE_MASK)
    if mask is None or mask.message_type is None or mask.message_type.full_name != _MASK:
        return data
    if isinstance(value, BaseModel) and UPDATE_MASK not in data:
        fields = descriptor.fields_by_name
        data[UPDATE_MASK] = sorted(
            name
            for name in value.model_fields_set
            if name in fields and not (data[name] is None and fields[name].is_repeated)
        )
    return data


def fill(message: Message, data: Mapping[str, Any]) -> None:
    descriptor = message.DESCRIPTOR
    for field in descriptor.fields:
        value = data.get(field.name)
        if value is not None:
            _set_field(message, field, value)
    for oneof in _oneofs(descriptor):
        value = data.get(oneof.name)
        if value is None or any(data.get(f.name) is not None for f in oneof.fields):
            continue
        member = next((f for f in oneof.fields if _takes(f, value)), None)
        if member is None:
            raise ValueError(f"{oneof.name}: {value!r} fits none of its forms")
        _set_field(message, member, value)


def _set_field(message: Message, field: FieldDescriptor, value: Any) -> None:
    if _is_map(field):
        _fill_map(getattr(message, field.name), field, value)
    elif field.is_repeated:
        target = getattr(message, field.name)
        for item in value:
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                _set_message(target.add(), item)
            else:
                target.append(_scalar_in(field, item))
    elif field.type == FieldDescriptor.TYPE_MESSAGE:
        _set_message(getattr(message, field.name), value)
    else:
        setattr(message, field.name, _scalar_in(field, value))


def _oneofs(descriptor: Descriptor) -> list[OneofDescriptor]:
    # proto3 `optional` fields each sit in a synthetic oneof named "_<field>": those
    # are plain fields, not choices.
    return [o for o in descriptor.oneofs if not o.name.startswith("_")]


_F = FieldDescriptor
_INTEGERS = {_F.TYPE_INT32, _F.TYPE_INT64, _F.TYPE_UINT32, _F.TYPE_UINT64}
_INTEGERS |= {_F.TYPE_SINT32, _F.TYPE_SINT64, _F.TYPE_FIXED32, _F.TYPE_FIXED64}
_FLOATS = {_F.TYPE_DOUBLE, _F.TYPE_FLOAT}


def _takes(field: FieldDescriptor, value: Any) -> bool:
    """Whether a oneof member of this type can carry `value`."""
    if isinstance(value, bool):
        return field.type == _F.TYPE_BOOL
    if isinstance(value, int):
        return field.type in _INTEGERS or field.type in _FLOATS
    if isinstance(value, float):
        return field.type in _FLOATS
    if isinstance(value, str):
        return field.type in (_F.TYPE_STRING, _F.TYPE_ENUM)
    if isinstance(value, bytes):
        return field.type == _F.TYPE_BYTES
    if isinstance(value, datetime):
        return field.message_type is not None and field.message_type.full_name == _TIMESTAMP
    return field.type == _F.TYPE_MESSAGE


def _is_map(field: FieldDescriptor) -> bool:
    return (
        field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry  # type: ignore[union-attr]
    )


def _fill_map(target: Any, field: FieldDescriptor, value: Mapping[Any, Any]) -> None:
    value_field = field.message_type.fields_by_name["value"]  # type: ignore[union-attr]
    for key, item in value.items():
        if value_field.type == FieldDescriptor.TYPE_MESSAGE:
            _set_message(target[key], item)
        else:
            target[key] = _scalar_in(value_field, item)


def _set_message(target: Message, value: Any) -> None:
    name = target.DESCRIPTOR.full_name
    if name == _TIMESTAMP:
        target.FromDatetime(_utc(value))  # type: ignore[attr-defined]
    elif name == _STRUCT:
        target.update(value)  # type: ignore[attr-defined]
    elif name == _MASK:
        target.paths.extend(value)  # type: ignore[attr-defined]
    else:
        fill(target, _fields(value, target.DESCRIPTOR))


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _enum_prefix(enum: EnumDescriptor) -> str:
    # IncidentStatus -> INCIDENT_STATUS_
    out = "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(enum.name))
    return out.upper() + "_"


def _scalar_in(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_STRING and isinstance(value, datetime):
        return value.isoformat()
    if field.type == FieldDescriptor.TYPE_ENUM:
        if isinstance(value, Enum) and not isinstance(value, str):
            value = value.name
        if isinstance(value, int):
            return value
        enum = field.enum_type
        assert enum is not None
        found = enum.values_by_name.get(_enum_prefix(enum) + str(value).upper())
        if found is None:
            raise ValueError(f"{value!r} is not a {enum.name}")
        return found.number
    return value


def to_dict(message: Message) -> dict[str, Any]:
    """The message's fields by name, as the domain's types have them."""
    out: dict[str, Any] = {}
    choices = _oneofs(message.DESCRIPTOR)
    for field in message.DESCRIPTOR.fields:
        if field.containing_oneof not in choices:
            out[field.name] = _field_out(message, field)
    for oneof in choices:
        chosen = message.WhichOneof(oneof.name)
        out[oneof.name] = (
            _field_out(message, message.DESCRIPTOR.fields_by_name[chosen]) if chosen else None
        )
    return out


def _field_out(message: Message, field: FieldDescriptor) -> Any:
    value = getattr(message, field.name)
    if _is_map(field):
        value_field = field.message_type.fields_by_name["value"]  # type: ignore[union-attr]
        return {k: _one_out(value_field, v) for k, v in value.items()}
    if field.is_repeated:
        return [_one_out(field, item) for item in value]
    if field.has_presence and not message.HasField(field.name):
        return None
    return _one_out(field, value)


def _one_out(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        name = value.DESCRIPTOR.full_name
        if name == _TIMESTAMP:
            return value.ToDatetime(tzinfo=UTC)
        if name == _STRUCT:
            return integral(MessageToDict(value))
        if name == _MASK:
            return list(value.paths)
        return to_dict(value)
    if field.type == FieldDescriptor.TYPE_ENUM:
        enum = field.enum_type
        assert enum is not None
        if value == 0:
            return None
        return enum.values_by_number[value].name.removeprefix(_enum_prefix(enum)).lower()
    return value


def integral(value: Any) -> Any:
    """JSON numbers back as they were sent: a Struct keeps only doubles."""
    if isinstance(value, float) and value.is_integer() and abs(value) < _MAX_EXACT:
        return int(value)
    if isinstance(value, dict):
        return {k: integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integral(v) for v in value]
    return value


@overload
def from_message(message: Message, kind: type[T]) -> T: ...
@overload
def from_message(message: Message, kind: Any) -> Any: ...
def from_message(message: Message, kind: Any) -> Any:
    """The message as a `kind` (a pydantic model, a dataclass, or any type pydantic
    validates, e.g. `list[ScheduleOut]` from a message's repeated field)."""
    return validate(to_dict(message), kind)


@overload
def validate(data: Any, kind: type[T]) -> T: ...
@overload
def validate(data: Any, kind: Any) -> Any: ...
def validate(data: Any, kind: Any) -> Any:
    """`data` as a `kind`; for a model, a field left unset (None) takes the model's
    default, as a field left out of an HTTP body does, and a patch's `update_mask`
    names the fields it sets (null included)."""
    if isinstance(kind, type) and issubclass(kind, BaseModel) and isinstance(data, dict):
        data = _model_input(data, kind)
    adapter = _adapters.get(kind)
    if adapter is None:
        adapter = _adapters[kind] = TypeAdapter(kind)
    return adapter.validate_python(data)


def _model_input(data: dict[str, Any], kind: type[BaseModel]) -> dict[str, Any]:
    fields = kind.model_fields
    mask = data.get(UPDATE_MASK) if UPDATE_MASK not in fields else None
    if mask:
        # A path naming no field reaches the model, which refuses it by name.
        return {path: data.get(path) for path in mask}

    def unset(name: str, value: Any) -> bool:
        if name not in fields:
            return value is None or name == UPDATE_MASK
        field = fields[name]
        if field.is_required():
            return False
        return value is None or value in ([], {})

    return {k: v for k, v in data.items() if not unset(k, v)}


def descriptor_fields(message: type[Message] | Descriptor) -> list[str]:
    """Field names of a message type (used by tests that check a contract mirrors a model)."""
    descriptor = message if isinstance(message, Descriptor) else message.DESCRIPTOR
    return [f.name for f in descriptor.fields]


@overload
def request_value(message: Message, kind: type[T]) -> T: ...
@overload
def request_value(message: Message, kind: Any) -> Any: ...
def request_value(message: Message, kind: Any) -> Any:
    """A request's message as a domain value, refused as the HTTP API refuses it: a
    value that does not validate is `InvalidInput` naming the field."""
    return request_data(to_dict(message), kind)


def request_data(data: Any, kind: Any) -> Any:
    """`request_value` of a message's fields already reshaped by the call site."""
    try:
        return validate(data, kind)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or None
        raise InvalidInput(
            f"{field}: {error['msg']}" if field else error["msg"], field=field
        ) from None
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
