"""Refuses text no database can store (core/validation.py) anywhere in a request: the
path, a query parameter, a header, or any string of a JSON or form body, keys included,
free-form fields (labels, details) too. The answer is a 422 naming each place, on every
route and every database, before any handler or database sees the request.

Bodies are checked as they stream in, without copying them: a chunk is only searched
for the few byte sequences such text needs (`\\u0000` or `\\ud...` escapes in JSON,
`%00` or a raw NUL in a form). Only when one appears is the whole body decoded to find
where; a false alarm (an escaped backslash, an emoji as a surrogate pair) is passed on
unchanged. A route that never reads its body (a full ingestion queue) costs nothing.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from fastapi import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oncallnova.core.validation import NUL, text_problem, text_problems
from oncallnova.transport.http import errors

JSON_MARKERS = (b"\\u0000", b"\\ud", b"\\uD")
FORM_MARKERS = (b"%00", b"\x00")
RAW_MARKERS = (b"\x00",)
FORM = b"application/x-www-form-urlencoded"


class InvalidText(HTTPException):
    """Raised from `receive`, so that the route's own body parsing passes it on (FastAPI
    re-raises HTTPExceptions) to the app's handler, which answers 422 with `errors`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(422, "invalid request: " + "; ".join(problems[:5]))
        self.errors = problems


class TextGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problems = _outside_body(scope)
        if problems:
            request = Request(scope, receive)
            body = errors.error_body(InvalidText(problems).detail, problems)
            response = await errors.answer(request, 422, body)
            await response(scope, receive, send)
            return
        await self.app(scope, _BodyScan(receive, _content_type(scope)).receive, send)


def _outside_body(scope: Scope) -> list[str]:
    problems = []
    if problem := text_problem(scope["path"]):
        problems.append(f"path: {problem}")
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if problem := text_problem(name) or text_problem(value):
                problems.append(f"query.{name}: {problem}")
    for name, value in scope["headers"]:
        if b"\x00" in value:
            problems.append(f"header {name.decode('latin-1')}: {text_problem(NUL)}")
    return problems


def _content_type(scope: Scope) -> bytes:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower()
    return b""


class _BodyScan:
    """A `receive` that searches each body chunk for the markers of its content type."""

    def __init__(self, receive: Receive, content_type: bytes) -> None:
        self._receive = receive
        self._type = content_type
        if content_type == FORM:
            self._markers = FORM_MARKERS
        elif content_type.startswith(b"multipart/"):
            self._markers = RAW_MARKERS
        else:
            self._markers = JSON_MARKERS
        self._seen: list[bytes] = []  # earlier chunks, kept only while more are coming
        self._tail = b""
        self._done = False

    async def receive(self) -> Message:
        message = await self._receive()
        if self._done or message["type"] != "http.request":
            return message
        chunk: bytes = message.get("body", b"")
        seam = self._tail + chunk[:5]  # a marker cut in two by the chunking
        if any(marker in chunk or marker in seam for marker in self._markers):
            return await self._judge(chunk, message.get("more_body", False))
        if message.get("more_body", False):
            self._seen.append(chunk)
            self._tail = chunk[-5:]
        else:
            self._done = True
        return message

    async def _judge(self, chunk: bytes, more: bool) -> Message:
        """Reads the rest of the body, refuses it if it holds bad text, else hands the
        rest on as one message."""
        self._done = True
        rest = [chunk]
        while more:
            message = await self._receive()
            if message["type"] != "http.request":
                return message  # the client went away
            rest.append(message.get("body", b""))
            more = message.get("more_body", False)
        problems = _body_problems(b"".join(self._seen + rest), self._type)
        self._seen = []
        if problems:
            raise InvalidText(problems)
        return {"type": "http.request", "body": b"".join(rest), "more_body": False}


def _body_problems(body: bytes, content_type: bytes) -> list[str]:
    if content_type == FORM:
        problems = []
        for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            if problem := text_problem(name) or text_problem(value):
                problems.append(f"{name}: {problem}")
        return problems
    if content_type.startswith(b"multipart/"):
        return [f"body: {text_problem(NUL)}"]
    try:
        document = json.loads(body)
    except ValueError:
        return []  # not JSON: the route answers that
    return text_problems(document)
