"""The `ingestion` role's side of `IngestStream`: one long call to the incidents role
that carries every request's batches, each message answered by its sequence.

A batch goes out as soon as the stream can take a message, together with every batch
that came while the previous message was being written: no request waits for a free
call or for a reply to another, the cost of a call is paid once per stream, and under
load a message carries many requests' batches. A stream is replaced every
STREAM_SECONDS (the old one half-closes and ends once its replies are in), so replicas
of the incidents role behind a gateway share the load and no gateway's timeout cuts a
stream mid-message.

When a stream breaks (the incidents role restarted, the network, no reply within the
deadline), the batches it had not answered are sent again on a new stream, as a unary
call is repeated: batch ids make a repeat store nothing twice. A batch is tried
ATTEMPTS times in all; then its sender gets the error.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import grpc

from oncallnova.alerts.schemas import AlertResult
from oncallnova.core.errors import DomainError, Unavailable
from oncallnova.transport.grpc.alert_messages import MAX_BATCHES
from oncallnova.transport.grpc.clients.calls import ATTEMPTS, PAUSE_SECONDS
from oncallnova.transport.grpc.errors import error_of
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import DEFAULT_DEADLINE_SECONDS

log = logging.getLogger(__name__)

# How long one stream takes new messages; then a new one is opened.
STREAM_SECONDS = 30.0
# A message not answered within this long breaks its stream (and is sent again).
MESSAGE_DEADLINE_SECONDS = DEFAULT_DEADLINE_SECONDS
# A message carries at most this many alerts and batches (the rest go in the next one).
MESSAGE_ALERTS = 5000
# After writing a message the stream waits this long before taking the next. Each
# message costs both ends a fixed amount of CPU, so under load this makes a message
# carry ~10 requests' batches rather than ~3, for 2 ms more latency at most; a batch
# arriving while nothing was sent lately goes out at once.
MESSAGE_PAUSE_SECONDS = 0.002


@dataclass(eq=False)
class Item:
    """One request's batch, and its sender waiting for the results."""

    batch: pb.AlertBatch
    done: asyncio.Future[list[AlertResult]]
    attempts: int = 0


Settle = Callable[[Item, "pb.BatchResult | BaseException"], None]


@dataclass
class _Sent:
    items: list[Item]
    at: float


class Streams:
    """Sends batches on the current stream, opening one when needed; `settle` is given
    each batch's result, or the error that ended its tries."""

    def __init__(self, stub: pb_grpc.IngestServiceStub, settle: Settle) -> None:
        self._stub = stub
        self._settle = settle
        self._waiting: deque[Item] = deque()
        self._current: _Stream | None = None
        self._sequence = itertools.count(1)
        self._open: set[_Stream] = set()
        self._retries: set[asyncio.Task[None]] = set()

    def send(self, item: Item) -> None:
        self._waiting.append(item)
        stream = self._current
        if stream is None or stream.closing:
            self._reopen()
        else:
            stream.wake()

    def take(self) -> list[Item]:
        """What waits, up to MESSAGE_ALERTS alerts (at least one batch) and
        MAX_BATCHES batches."""
        taken: list[Item] = []
        alerts = 0
        while self._waiting and len(taken) < MAX_BATCHES:
            size = len(self._waiting[0].batch.alerts)
            if taken and alerts + size > MESSAGE_ALERTS:
                break
            taken.append(self._waiting.popleft())
            alerts += size
        return taken

    def next_sequence(self) -> int:
        return next(self._sequence)

    def call(self, requests: AsyncIterator[pb.IngestStreamRequest]) -> grpc.aio.StreamStreamCall:
        # The deadline of the call as a whole: its life plus time for the last replies.
        return self._stub.IngestStream(  # type: ignore[return-value]
            requests, timeout=STREAM_SECONDS + 2 * MESSAGE_DEADLINE_SECONDS
        )

    def settle(self, item: Item, outcome: pb.BatchResult | BaseException) -> None:
        self._settle(item, outcome)

    def ended(self, stream: _Stream) -> None:
        self._open.discard(stream)
        if self._current is stream:
            self._current = None
        if self._waiting and self._current is None:
            self._reopen()  # batches that came as it closed go on a new stream

    def _reopen(self) -> None:
        stream = self._current = _Stream(self)
        self._open.add(stream)
        stream.wake()

    def broken(self, items: list[Item], error: BaseException) -> None:
        """Send again what a broken stream left unanswered, or settle it with the
        error."""
        again: list[Item] = []
        for item in items:
            item.attempts += 1
            if isinstance(error, Unavailable) and item.attempts < ATTEMPTS:
                again.append(item)
            else:
                self._settle(item, error)
        if again:
            pause = PAUSE_SECONDS * 2 ** (max(item.attempts for item in again) - 1)
            retry = asyncio.create_task(self._again(again, pause))
            self._retries.add(retry)
            retry.add_done_callback(self._retries.discard)

    async def _again(self, items: list[Item], pause: float) -> None:
        try:
            await asyncio.sleep(pause)
        except asyncio.CancelledError as exc:
            for item in items:
                self._settle(item, exc)
            raise
        for item in items:
            self.send(item)

    async def aclose(self) -> None:
        """Let the open streams end once their replies (and the retries) are in."""
        while self._open or self._retries:
            for stream in list(self._open):
                stream.close()
            waited = [*(stream.task for stream in self._open), *self._retries]
            await asyncio.gather(*waited, return_exceptions=True)


class _Stream:
    def __init__(self, streams: Streams) -> None:
        self._streams = streams
        self._wake = asyncio.Event()
        self.pending: dict[int, _Sent] = {}
        self.closing = False
        # Closed when its time is up, busy or idle: an idle one ends before its deadline.
        self._retire = asyncio.get_running_loop().call_later(STREAM_SECONDS, self.close)
        self._timer: asyncio.TimerHandle | None = None
        self._expired: Unavailable | None = None
        # A context of its own: the stream outlives the request that opened it, so it
        # must not join that request's trace, nor act as its user.
        self.task = asyncio.create_task(self._run(), context=contextvars.Context())

    def wake(self) -> None:
        self._wake.set()

    def close(self) -> None:
        """Take no more batches; the stream ends once the pending ones are answered."""
        self.closing = True
        self._wake.set()

    async def _requests(self) -> AsyncIterator[pb.IngestStreamRequest]:
        # gRPC asks for the next message once the previous one is written, so what
        # came meanwhile goes out together.
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self.closing:
                return
            while not self.closing and (items := self._streams.take()):
                sequence = self._streams.next_sequence()
                self.pending[sequence] = _Sent(items, time.monotonic())
                if self._timer is None:
                    self._watch()
                yield pb.IngestStreamRequest(
                    sequence=sequence, batches=[item.batch for item in items]
                )
                await asyncio.sleep(MESSAGE_PAUSE_SECONDS)

    def _watch(self) -> None:
        """Break the stream when its oldest message has waited past the deadline."""
        self._timer = None
        if not self.pending:
            return
        oldest = min(sent.at for sent in self.pending.values())
        late = oldest + MESSAGE_DEADLINE_SECONDS - time.monotonic()
        if late <= 0:
            self._expired = Unavailable(
                "the incidents role did not answer in time; the alerts are sent again"
            )
            self.task.cancel()
            return
        self._timer = asyncio.get_running_loop().call_later(late, self._watch)

    async def _run(self) -> None:
        error: BaseException | None = None
        call = self._streams.call(self._requests())
        try:
            async for reply in call:
                sent = self.pending.pop(reply.sequence, None)
                if sent is not None:
                    self._answered(sent.items, reply)
        except asyncio.CancelledError as exc:
            error = self._expired or exc
            if self._expired is None:
                raise
        except DomainError as exc:
            error = exc
        except grpc.aio.AioRpcError as exc:
            error = Unavailable(f"the stream to the incidents role failed: {exc.code().name}")
        except Exception as exc:
            log.exception("the ingest stream to the incidents role failed")
            error = Unavailable(f"the stream to the incidents role failed: {exc}")
        finally:
            call.cancel()
            self.closing = True
            self._retire.cancel()
            if self._timer is not None:
                self._timer.cancel()
            left = [item for sent in self.pending.values() for item in sent.items]
            self.pending.clear()
            self._streams.ended(self)
            if left:
                gone = error or Unavailable("the incidents role ended the stream early")
                self._streams.broken(left, gone)

    def _answered(self, items: list[Item], reply: pb.IngestStreamResponse) -> None:
        if reply.HasField("error"):
            error = error_of(reply.error)
            if isinstance(error, Unavailable):
                self._streams.broken(items, error)
            else:
                for item in items:
                    self._streams.settle(item, error)
            return
        for item, result in zip(items, reply.batches, strict=True):
            self._streams.settle(item, result)
