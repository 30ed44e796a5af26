"""Who is calling, on both ends of a gRPC call between OnCallNova's roles.

Two things travel in the metadata of every call: the internal token
(`authorization: Bearer <ONCALLNOVA_INTERNAL_TOKEN>`, or `x-oncallnova-internal-token`),
which proves the caller is one of this installation's services, and the acting user
(`x-oncallnova-principal`: a JSON object of `core.authz.Principal`'s fields), whom the
called service authorizes again as the all-in-one does. The standard health service
needs neither, so load balancers and orchestrators can probe it.

On the server, `ServerAuth` refuses calls without the token, puts the acting user in
`current_principal()` for the servicer, and answers a `DomainError` the servicer raised
with its status (see `errors.py`), so servicers never catch one. On the client,
`client_interceptors` add the token, the user set with `acting_as` (or the served call's,
so a service that calls another passes its caller on) and a default deadline, and raises
the `DomainError` a failed call carries. A long-lived stream (WatchChanges) names its
own, longer deadline and reconnects when it ends.
"""

from __future__ import annotations

import contextvars
import hmac
import inspect
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import grpc
from grpc.aio import ClientCallDetails, Metadata

from oncallnova.core.authz import Principal, Role
from oncallnova.core.db import unavailable
from oncallnova.core.errors import DomainError, Unauthenticated, Unavailable
from oncallnova.transport.grpc import errors

log = logging.getLogger(__name__)

TOKEN_KEY = "x-oncallnova-internal-token"  # noqa: S105 - a header name, not a secret
PRINCIPAL_KEY = "x-oncallnova-principal"
# The role a health probe asks about: a gateway in front of several roles routes the
# standard health service (one path for all of them) by it.
ROLE_KEY = "x-oncallnova-role"
# Probes need no token: they say only whether the server is up.
OPEN_PREFIXES = ("/grpc.health.v1.Health/",)
DEFAULT_DEADLINE_SECONDS = 10.0

_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "oncallnova_grpc_principal", default=None
)


def current_principal() -> Principal:
    """The acting user of the call being served (or set with `acting_as`)."""
    who = _principal.get()
    if who is None:
        raise Unauthenticated("no acting user was sent with this call")
    return who


@contextmanager
def acting_as(who: Principal) -> Iterator[None]:
    """Calls made inside act as `who`."""
    token = _principal.set(who)
    try:
        yield
    finally:
        _principal.reset(token)


def principal_header(who: Principal) -> str:
    # ASCII JSON: metadata values must be ASCII, and names need not be.
    return json.dumps({**asdict(who), "role": who.role.name}, separators=(",", ":"))


def principal_from_header(value: str) -> Principal:
    try:
        data = json.loads(value)
        data["role"] = Role[data["role"]]
        return Principal(**data)
    except (ValueError, KeyError, TypeError) as exc:
        raise Unauthenticated(f"malformed {PRINCIPAL_KEY} metadata") from exc


def _sent_token(metadata: dict[str, str]) -> str | None:
    scheme, _, value = metadata.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return metadata.get(TOKEN_KEY)


Behavior = Callable[..., Any]
Around = Callable[[Behavior, bool], Behavior]


def _rewrap(handler: grpc.RpcMethodHandler, around: Around) -> grpc.RpcMethodHandler:
    """`handler` with its behavior replaced by `around(behavior, streams_responses)`."""
    kinds = {
        (False, False): ("unary_unary", grpc.unary_unary_rpc_method_handler),
        (False, True): ("unary_stream", grpc.unary_stream_rpc_method_handler),
        (True, False): ("stream_unary", grpc.stream_unary_rpc_method_handler),
        (True, True): ("stream_stream", grpc.stream_stream_rpc_method_handler),
    }
    name, make = kinds[(handler.request_streaming, handler.response_streaming)]
    behavior = getattr(handler, name)
    return make(
        around(behavior, handler.response_streaming),
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


OutageHook = Callable[[BaseException], None]


def _guarded(
    behavior: Behavior,
    streams: bool,
    guard: Callable[[Any], Awaitable[None]],
    outage: OutageHook | None = None,
) -> Behavior:
    """`behavior` run after `guard(context)`, and with its DomainErrors as statuses."""
    if streams and inspect.isasyncgenfunction(behavior):

        async def stream(request: Any, context: Any) -> AsyncIterator[Any]:
            try:
                await guard(context)
                async for response in behavior(request, context):
                    yield response
            except Exception as exc:
                await _fail(context, exc, outage)

        return stream

    async def call(request: Any, context: Any) -> Any:
        try:
            await guard(context)
            result = behavior(request, context)
            # The generated base class's methods (not implemented) are plain functions.
            return await result if inspect.isawaitable(result) else result
        except Exception as exc:
            await _fail(context, exc, outage)

    return call


def error_to_answer(exc: BaseException, outage: OutageHook | None) -> DomainError | None:
    """The DomainError to answer for `exc`: itself, or Unavailable for a database outage
    (told to `outage`, which logs it once per outage); None for anything else (a bug)."""
    if isinstance(exc, DomainError):
        return exc
    if not unavailable(exc):
        return None
    if outage is not None:
        outage(exc)
    else:
        log.warning("gRPC call failed: the database is unavailable: %s", exc)
    return Unavailable("the database is unavailable; the request was not applied", retry_after=5)


async def _fail(
    context: grpc.aio.ServicerContext[Any, Any], exc: Exception, outage: OutageHook | None
) -> None:
    if isinstance(exc, grpc.aio.AbortError):
        raise exc  # the servicer ended the call itself
    if isinstance(exc, NotImplementedError):
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "this method is not implemented yet")
    error = error_to_answer(exc, outage)
    if error is not None:
        await errors.abort(context, error)
    log.exception("unhandled error in a gRPC call", exc_info=exc)
    await context.abort(grpc.StatusCode.INTERNAL, "internal error; the request was not applied")


class ServerAuth(grpc.aio.ServerInterceptor):
    """Every method but health needs the internal token; reads the acting user; answers
    a servicer's DomainError with its status. `outage` is told when a call failed because
    the database is unreachable (the all-in-one's error handler does the same)."""

    def __init__(self, token: str, outage: OutageHook | None = None) -> None:
        if not token:
            raise ValueError("an internal token is required")
        self._token = token.encode()
        # The guarded handler of each method, made once: the guard reads what it checks
        # from each call's own metadata, so nothing of one call is kept in it.
        self._guarded: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}
        self._outage = outage

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        method: str = handler_call_details.method
        guarded = self._guarded.get(method)
        if guarded is not None:
            return guarded
        handler = await continuation(handler_call_details)
        if handler is None or method.startswith(OPEN_PREFIXES):
            return handler
        guarded = _rewrap(
            handler,
            lambda behavior, streams: _guarded(behavior, streams, self._guard, self._outage),
        )
        self._guarded[method] = guarded
        return guarded

    async def _guard(self, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        # Runs inside the call's own task, so the principal is this call's alone.
        metadata = {
            key: value
            for key, value in context.invocation_metadata() or ()
            if isinstance(value, str)
        }
        sent = _sent_token(metadata)
        if sent is None or not hmac.compare_digest(sent.encode(), self._token):
            raise Unauthenticated("missing or wrong internal token")
        header = metadata.get(PRINCIPAL_KEY)
        _principal.set(principal_from_header(header) if header else None)


def client_interceptors(
    token: str, *, deadline_seconds: float = DEFAULT_DEADLINE_SECONDS
) -> list[grpc.aio.ClientInterceptor]:
    """One interceptor per kind of call: a channel files each interceptor under the first
    kind it implements only, so one class for all four would miss three of them."""
    return [
        kind(token, deadline_seconds)
        for kind in (_UnaryUnary, _UnaryStream, _StreamUnary, _StreamStream)
    ]


class _Client:
    """Adds the token, the acting user and a deadline; raises a call's DomainError."""

    def __init__(self, token: str, deadline_seconds: float) -> None:
        self._token = token
        self._deadline = deadline_seconds

    def _details(self, details: ClientCallDetails) -> ClientCallDetails:
        metadata = Metadata(*(details.metadata or ()))
        metadata["authorization"] = f"Bearer {self._token}"
        who = _principal.get()
        if who is not None and PRINCIPAL_KEY not in metadata:
            metadata[PRINCIPAL_KEY] = principal_header(who)
        return ClientCallDetails(
            method=details.method,
            # A call that names its own deadline keeps it; none goes without one.
            timeout=details.timeout if details.timeout is not None else self._deadline,
            metadata=metadata,
            credentials=details.credentials,
            wait_for_ready=details.wait_for_ready,
        )


Continuation = Callable[[ClientCallDetails, Any], Awaitable[Any]]


class _UnaryUnary(_Client, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(
        self, continuation: Continuation, client_call_details: ClientCallDetails, request: Any
    ) -> Any:
        return await _one(await continuation(self._details(client_call_details), request))


class _StreamUnary(_Client, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(
        self,
        continuation: Continuation,
        client_call_details: ClientCallDetails,
        request_iterator: Any,
    ) -> Any:
        return await _one(await continuation(self._details(client_call_details), request_iterator))


class _UnaryStream(_Client, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(
        self, continuation: Continuation, client_call_details: ClientCallDetails, request: Any
    ) -> Any:
        return _many(await continuation(self._details(client_call_details), request))


class _StreamStream(_Client, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(
        self,
        continuation: Continuation,
        client_call_details: ClientCallDetails,
        request_iterator: Any,
    ) -> Any:
        return _many(await continuation(self._details(client_call_details), request_iterator))


async def _one(call: Any) -> Any:
    """The finished call (its response, metadata and code stay readable), or the
    DomainError it failed with."""
    try:
        await call
    except grpc.aio.AioRpcError as err:
        raise errors.from_rpc_error(err) or err from None
    return call


async def _many(call: Any) -> AsyncIterator[Any]:
    """The call's responses, ending with the DomainError it failed with, if any."""
    try:
        async for response in call:
            yield response
    except grpc.aio.AioRpcError as err:
        raise errors.from_rpc_error(err) or err from None
