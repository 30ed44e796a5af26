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
- A message field unset, or an `optional` scalar not present, is None.

Where a message nests what a model keeps flat (or the reverse), the call site reshapes
the dict before or after; nothing else is special.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.protobuf import struct_pb2, timestamp_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from pydantic import BaseModel, TypeAdapter, ValidationError

from oncallnova.core.errors import InvalidInput

M = TypeVar("M", bound=Message)
T = TypeVar("T")

_TIMESTAMP = timestamp_pb2.Timestamp.DESCRIPTOR.full_name
_STRUCT = struct_pb2.Struct.DESCRIPTOR.full_name
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
    fill(message, as_dict(value))
    return message


def fill(message: Message, data: Mapping[str, Any]) -> None:
    for field in message.DESCRIPTOR.fields:
        value = data.get(field.name)
        if value is None:
            continue
        if _is_map(field):
            _fill_map(getattr(message, field.name), field, value)
        elif field.label == FieldDescriptor.LABEL_REPEATED:
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
    else:
        fill(target, as_dict(value))


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _enum_prefix(enum: EnumDescriptor) -> str:
    # IncidentStatus -> INCIDENT_STATUS_
    out = "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(enum.name))
    return out.upper() + "_"


def _scalar_in(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_ENUM:
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
    for field in message.DESCRIPTOR.fields:
        out[field.name] = _field_out(message, field)
    return out


def _field_out(message: Message, field: FieldDescriptor) -> Any:
    value = getattr(message, field.name)
    if _is_map(field):
        value_field = field.message_type.fields_by_name["value"]  # type: ignore[union-attr]
        return {k: _one_out(value_field, v) for k, v in value.items()}
    if field.label == FieldDescriptor.LABEL_REPEATED:
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


def from_message(message: Message, kind: type[T] | Any) -> T:
    """The message as a `kind` (a pydantic model, a dataclass, or any type pydantic
    validates, e.g. `list[ScheduleOut]` from a message's repeated field)."""
    return validate(to_dict(message), kind)


def validate(data: Any, kind: type[T] | Any) -> T:
    """`data` as a `kind`; for a model, a field left unset (None) takes the model's
    default, as a field left out of an HTTP body does."""
    if isinstance(kind, type) and issubclass(kind, BaseModel) and isinstance(data, dict):
        fields = kind.model_fields
        data = {
            k: v
            for k, v in data.items()
            if v is not None or k not in fields or fields[k].is_required()
        }
    adapter = _adapters.get(kind)
    if adapter is None:
        adapter = _adapters[kind] = TypeAdapter(kind)
    result: T = adapter.validate_python(data)
    return result


def descriptor_fields(message: type[Message] | Descriptor) -> list[str]:
    """Field names of a message type (used by tests that check a contract mirrors a model)."""
    descriptor = message if isinstance(message, Descriptor) else message.DESCRIPTOR
    return [f.name for f in descriptor.fields]


def request_value(message: Message, kind: type[T] | Any) -> T:
    """A request's message as a domain value, refused as the HTTP API refuses it: a
    value that does not validate is `InvalidInput` naming the field."""
    try:
        return from_message(message, kind)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or None
        raise InvalidInput(
            f"{field}: {error['msg']}" if field else error["msg"], field=field
        ) from None
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
