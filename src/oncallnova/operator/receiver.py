"""The webhook receiver `full-demo` runs itself: it records every delivery and checks
its signature with the webhook's secret, as a real receiver must."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from oncallnova.notify.signing import verify


@dataclass(frozen=True)
class Received:
    event_type: str
    delivery_id: str
    signature_ok: bool
    body: dict[str, Any]

    @property
    def incident_id(self) -> str | None:
        data = self.body.get("event", {}).get("data") or {}
        return data.get("id") if isinstance(data, dict) else None


class Receiver:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.secret = ""  # set once the webhook exists (its secret is in the create answer)
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                header = self.headers.get("X-OnCallNova-Signature", "")
                ok = bool(receiver.secret) and verify(receiver.secret, body, header)
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = {}
                with receiver._lock:
                    receiver.received.append(
                        Received(
                            self.headers.get("X-OnCallNova-Event", ""),
                            self.headers.get("X-OnCallNova-Delivery", ""),
                            ok,
                            parsed if isinstance(parsed, dict) else {},
                        )
                    )
                # A bad signature is refused, as the README's receiver does.
                self.send_response(204 if ok else 401)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)
