"""A `Message` laid out as each tool's incoming webhook expects it: pure, no I/O.

- Slack incoming webhook: `text` (the notification's fallback) and Block Kit `blocks`
  (header, section with fields, a link button, a context line), within Block Kit's
  limits (header 150 characters, section text 3000, field 2000, button text 75).
- Mattermost incoming webhook: `text` and one message attachment (`fallback` required,
  `color`, `title` with `title_link`, `fields`, `footer`).
- Microsoft Teams Workflows ("When a Teams webhook request is received"): a `message`
  whose attachment is an Adaptive Card 1.4 (`application/vnd.microsoft.card.adaptive`);
  the retired Office 365 connector MessageCard is not accepted by Workflows.
- ntfy publish as JSON (POST to the server's root URL): `topic`, `title`, `message`,
  `priority` 1-5, `tags`, `click` and one `view` action.
"""

from __future__ import annotations

from typing import Any

from oncallnova.transport.webhooks.messages import Message

COLORS = {  # severity or kind -> accent, as the email uses
    "critical": "#b42318",
    "high": "#c4320a",
    "medium": "#b54708",
    "low": "#175cd3",
    "acknowledged": "#9a6700",
    "resolved": "#1a7f37",
}
DEFAULT_COLOR = "#475467"
SLACK_EMOJI = {
    "critical": ":red_circle:",
    "high": ":large_orange_circle:",
    "medium": ":large_yellow_circle:",
    "low": ":large_blue_circle:",
    "acknowledged": ":eyes:",
    "resolved": ":white_check_mark:",
    "reminder": ":calendar:",
    "test": ":wave:",
}
TEAMS_COLOR = {"critical": "Attention", "high": "Attention", "medium": "Warning", "low": "Accent"}
NTFY_PRIORITY = {"critical": 5, "high": 4, "medium": 3, "low": 2}
NTFY_TAGS = {
    "critical": "rotating_light",
    "high": "warning",
    "medium": "warning",
    "low": "information_source",
    "acknowledged": "eyes",
    "resolved": "white_check_mark",
    "reminder": "calendar",
    "test": "test_tube",
}


def _key(message: Message) -> str:
    """What picks the colour and icon: the severity while it needs acting on."""
    if message.kind in ("page", "event") and message.severity:
        return message.severity
    return message.kind


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mrkdwn(text: str) -> str:
    """Slack reads &, < and > as markup (`<!channel>` pings everyone): escape them."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(message: Message) -> dict[str, Any]:
    emoji = SLACK_EMOJI.get(_key(message), ":bell:")
    section: dict[str, Any] = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": _cut(_mrkdwn(message.text) or " ", 3000)},
    }
    if message.facts:
        section["fields"] = [
            {"type": "mrkdwn", "text": _cut(f"*{name}*\n{_mrkdwn(value)}", 2000)}
            for name, value in message.facts[:10]
        ]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _cut(f"{emoji} {message.title}", 150),
                "emoji": True,
            },
        },
        section,
    ]
    if message.link:
        button: dict[str, Any] = {
            "type": "button",
            "text": {"type": "plain_text", "text": "Open incident" if message.facts else "Open"},
            "url": message.link,
            "action_id": "open",
        }
        if message.urgent:
            button["style"] = "danger"
        blocks.append({"type": "actions", "elements": [button]})
    if message.hint:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _mrkdwn(message.hint)}]}
        )
    return {"text": _cut(message.title, 3000), "blocks": blocks}


def mattermost(message: Message) -> dict[str, Any]:
    attachment: dict[str, Any] = {
        "fallback": message.title,
        "color": COLORS.get(_key(message), DEFAULT_COLOR),
        "title": message.title,
        "text": message.text,
    }
    if message.link:
        attachment["title_link"] = message.link
    if message.facts:
        attachment["fields"] = [
            {"short": True, "title": name, "value": value} for name, value in message.facts
        ]
    if message.hint:
        attachment["footer"] = message.hint
    text = f"#### {message.title}"
    if message.link:
        text += f"\n[Open in OnCallNova]({message.link})"
    return {"text": text, "attachments": [attachment]}


def teams(message: Message) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": message.title,
            "size": "Large",
            "weight": "Bolder",
            "wrap": True,
            "color": TEAMS_COLOR.get(_key(message), "Default"),
        },
        {"type": "TextBlock", "text": message.text or " ", "wrap": True},
    ]
    if message.facts:
        body.append(
            {"type": "FactSet", "facts": [{"title": n, "value": v} for n, v in message.facts]}
        )
    if message.hint:
        body.append({"type": "TextBlock", "text": message.hint, "wrap": True, "isSubtle": True})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if message.link:
        title = "Open incident" if message.facts else "Open"
        card["actions"] = [{"type": "Action.OpenUrl", "title": title, "url": message.link}]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def ntfy(message: Message, topic: str) -> dict[str, Any]:
    priority = NTFY_PRIORITY.get(message.severity or "", 3) if message.urgent else 3
    body: dict[str, Any] = {
        "topic": topic,
        "title": message.title,
        "message": message.text + (f"\n{message.hint}" if message.hint else ""),
        "priority": priority,
        "tags": [NTFY_TAGS.get(_key(message), "bell")],
    }
    if message.link:
        body["click"] = message.link
        body["actions"] = [{"action": "view", "label": "Open", "url": message.link}]
    return body


RENDER = {"slack": slack, "mattermost": mattermost, "teams": teams}
