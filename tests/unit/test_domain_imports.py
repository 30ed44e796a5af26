"""Domains never import a transport or its frameworks (HTTP, gRPC, MCP, templates), so each
can run behind any of them, in process or split across services."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "oncallnova"
DOMAINS = [
    "alerts",
    "analytics",
    "auth",
    "core",
    "engine",
    "heartbeats",
    "incidents",
    "notify",
    "oncall",
    "services",
    "suppression",
    "users",
]
FORBIDDEN = (
    "fastapi",
    "starlette",
    "jinja2",
    "grpc",
    "grpc_health",
    "grpc_reflection",
    "google.protobuf",
    "google.rpc",
    "mcp",
    "oncallnova.transport",
)


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return names


def test_domains_import_no_transport_nor_framework() -> None:
    offending = [
        f"{path.relative_to(SRC)}: {name}"
        for domain in DOMAINS
        for path in sorted((SRC / domain).rglob("*.py"))
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    ]
    assert not offending, offending
    assert all((SRC / domain).is_dir() for domain in DOMAINS)
