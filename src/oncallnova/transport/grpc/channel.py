"""A client channel to another role's gRPC server, with `client_interceptors` on it."""

from __future__ import annotations

import grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors, aio_server_interceptor

from oncallnova.core.tracing import Tracing
from oncallnova.settings import Settings
from oncallnova.transport.grpc.interceptors import DEFAULT_DEADLINE_SECONDS, client_interceptors


def message_options(settings: Settings) -> list[tuple[str, int]]:
    """Message size limits, the same on both ends. A batch's protobuf is about the size
    of the HTTP body it came from, so a few times MAX_BODY_BYTES leaves room."""
    limit = max(4 * 1024 * 1024, 4 * settings.max_body_bytes)
    return [("grpc.max_receive_message_length", limit), ("grpc.max_send_message_length", limit)]


def open_channel(
    address: str,
    settings: Settings,
    *,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    tracing: Tracing | None = None,
) -> grpc.aio.Channel:
    """A channel to `address` (`host:port`, e.g. `settings.incidents_grpc_addr`) whose
    every call carries the internal token, the acting user and a deadline, and, with
    tracing on, a client span whose W3C context travels in the metadata."""
    if not settings.internal_token:
        raise ValueError("set ONCALLNOVA_INTERNAL_TOKEN to call other roles over gRPC")
    interceptors: list[grpc.aio.ClientInterceptor] = []
    if tracing is not None and tracing.enabled:
        interceptors.extend(aio_client_interceptors(tracer_provider=tracing.provider))
    interceptors.extend(
        client_interceptors(settings.internal_token, deadline_seconds=deadline_seconds)
    )
    return grpc.aio.insecure_channel(
        address, options=message_options(settings), interceptors=interceptors
    )


def server_tracing(tracing: Tracing) -> list[grpc.aio.ServerInterceptor]:
    """A server span per call, a child of the caller's span (W3C context in the
    metadata); nothing while tracing is off."""
    if not tracing.enabled:
        return []
    return [aio_server_interceptor(tracer_provider=tracing.provider)]
