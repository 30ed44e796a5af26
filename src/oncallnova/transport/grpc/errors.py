"""Domain errors across gRPC, both ways.

A servicer lets a `DomainError` propagate; the server interceptor (`interceptors.py`)
answers it with the status code below and, in the standard status details
(`grpc-status-details-bin`: a `google.rpc.Status` holding an `oncallnova.v1.ErrorDetail`),
its exact kind, message, field and retry delay. The client interceptor reads them back and
raises the same class with the same message and field, so a route in `web` or
`ingestion` answers the same 4xx as the all-in-one. A status without our details (another
server, or a proxy that answered itself) still maps by its code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NoReturn

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import DecodeError
from google.rpc import status_pb2

from oncallnova.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    Overloaded,
    RetryLater,
    Unauthenticated,
    Unavailable,
)
from oncallnova.transport.grpc.gen.oncallnova.v1 import common_pb2

DETAILS_KEY = "grpc-status-details-bin"

# Most specific first: the first entry a class is an instance of wins.
_TABLE: list[tuple[type[DomainError], common_pb2.ErrorKind.ValueType, grpc.StatusCode]] = [
    (NotFound, common_pb2.ERROR_KIND_NOT_FOUND, grpc.StatusCode.NOT_FOUND),
    (Conflict, common_pb2.ERROR_KIND_CONFLICT, grpc.StatusCode.FAILED_PRECONDITION),
    (InvalidInput, common_pb2.ERROR_KIND_INVALID_INPUT, grpc.StatusCode.INVALID_ARGUMENT),
    (Unauthenticated, common_pb2.ERROR_KIND_UNAUTHENTICATED, grpc.StatusCode.UNAUTHENTICATED),
    (Forbidden, common_pb2.ERROR_KIND_FORBIDDEN, grpc.StatusCode.PERMISSION_DENIED),
    (Overloaded, common_pb2.ERROR_KIND_OVERLOADED, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (Unavailable, common_pb2.ERROR_KIND_UNAVAILABLE, grpc.StatusCode.UNAVAILABLE),
]
# A plain DomainError (HTTP 400): the request cannot be carried out as it stands.
_PLAIN = (common_pb2.ERROR_KIND_UNSPECIFIED, grpc.StatusCode.FAILED_PRECONDITION)
_BY_KIND = {kind: cls for cls, kind, _ in _TABLE}
# Without details, a code alone; FAILED_PRECONDITION is read as the more common Conflict.
_BY_CODE = {code: cls for cls, _, code in _TABLE}


def status_of(exc: DomainError) -> tuple[grpc.StatusCode, common_pb2.ErrorDetail]:
    """The status code and the details that describe `exc` on the wire."""
    kind, code = next(((k, c) for cls, k, c in _TABLE if isinstance(exc, cls)), _PLAIN)
    detail = common_pb2.ErrorDetail(kind=kind, message=exc.message)
    if exc.field:
        detail.field_violations.add(field=exc.field, description=exc.message)
    if isinstance(exc, RetryLater):
        detail.retry_after_seconds = exc.retry_after
    return code, detail


def trailers_of(exc: DomainError) -> tuple[grpc.StatusCode, tuple[tuple[str, bytes], ...]]:
    """The status code and the trailing metadata that carry `exc`."""
    code, detail = status_of(exc)
    packed = any_pb2.Any()
    packed.Pack(detail)
    status = status_pb2.Status(code=code.value[0], message=exc.message, details=[packed])
    return code, ((DETAILS_KEY, status.SerializeToString()),)


async def abort(context: grpc.aio.ServicerContext[object, object], exc: DomainError) -> NoReturn:
    """End the call with `exc` (raises, as `context.abort` does)."""
    code, trailers = trailers_of(exc)
    await context.abort(code, exc.message, trailing_metadata=trailers)
    raise AssertionError("context.abort returned")  # pragma: no cover: it always raises


Trailers = Iterable[tuple[str, str | bytes]]
# How gRPC reports an HTTP answer that is not gRPC's (it maps 502-504 to UNAVAILABLE by
# itself, and any other status, 500 included, to UNKNOWN with this text).
PROXY_ANSWER = "Received http2 header with status: "


def error_of(detail: common_pb2.ErrorDetail) -> DomainError:
    """The DomainError an `ErrorDetail` describes (a call's, or one batch's of a call)."""
    field = detail.field_violations[0].field if detail.field_violations else None
    cls = _BY_KIND.get(detail.kind, DomainError)
    if issubclass(cls, RetryLater):
        return cls(detail.message, retry_after=detail.retry_after_seconds or 1)
    return cls(detail.message, field=field)


def domain_error(
    code: grpc.StatusCode, message: str, trailers: Trailers | None
) -> DomainError | None:
    """The DomainError a failed call carries, or None when the status is not one (a
    deadline, a lost connection, a server's internal error)."""
    detail = _detail(trailers)
    if detail is not None:
        return error_of(detail)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return Unavailable(
            "another OnCallNova service did not answer in time; the request may not have "
            "been applied",
            retry_after=1,
        )
    if code == grpc.StatusCode.UNKNOWN and message.startswith(PROXY_ANSWER):
        # Not a gRPC answer: a proxy on the way (the gateway) failed the call, e.g. when
        # the replica it was talking to died mid-call. The service may be fine.
        return Unavailable(f"another OnCallNova service is unavailable: {message}")
    by_code = _BY_CODE.get(code)
    if by_code is None:
        return None
    if by_code is Unavailable:
        return Unavailable(f"another OnCallNova service is unavailable: {message}")
    return Overloaded(message) if by_code is Overloaded else by_code(message)


def from_rpc_error(err: grpc.aio.AioRpcError) -> DomainError | None:
    return domain_error(err.code(), err.details() or "", err.trailing_metadata())


def _detail(trailers: Trailers | None) -> common_pb2.ErrorDetail | None:
    for key, value in trailers or ():
        if key != DETAILS_KEY or not isinstance(value, bytes):
            continue
        status = status_pb2.Status()
        try:
            status.ParseFromString(value)
        except DecodeError:  # not ours after all: fall back to the code
            return None
        for packed in status.details:
            if packed.Is(common_pb2.ErrorDetail.DESCRIPTOR):
                detail = common_pb2.ErrorDetail()
                packed.Unpack(detail)
                return detail
    return None
