"""A real HTTP receiver on loopback for webhook tests, run in its own thread."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.system.servers import free_port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each request with the next status of `script` (then 200); "hang" sleeps."""

    script: list[int | str] = field(default_factory=list)
    hang_seconds: float = 6.0
    requests: list[Received] = field(default_factory=list)
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        self.requests.append(Received({k.lower(): v for k, v in request.headers.items()}, body))
        action = self.script.pop(0) if self.script else 200
        if action == "hang":
            await asyncio.sleep(self.hang_seconds)
            action = 200
        return Response(status_code=int(action))

    def __enter__(self) -> Receiver:
        app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])
        self._server = serve_in_thread(app, self.port)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.stop()

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.requests)


class ThreadServer:
    """An ASGI app served by uvicorn on loopback, in a thread of its own."""

    def __init__(self, app: Starlette, port: int) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> ThreadServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("receiver did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def serve_in_thread(app: Starlette, port: int) -> ThreadServer:
    return ThreadServer(app, port).start()
