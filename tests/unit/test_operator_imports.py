"""The operator commands talk to OnCallNova over HTTP: the package imports nothing of
the server but a few pure helpers (signature checks, the roles table, and the
configuration check, which judges this machine's settings)."""

from __future__ import annotations

import ast
from pathlib import Path

OPERATOR = Path(__file__).resolve().parents[2] / "src" / "oncallnova" / "operator"
ALLOWED = {
    "oncallnova.notify.signing",  # HMAC signatures, as a webhook receiver checks them
    "oncallnova.runtime.roles",  # the roles and their ports (the Compose services)
    "oncallnova.runtime.check",  # the configuration check `check` always did
    "oncallnova.settings",  # ...of the settings read from this environment
    "oncallnova.stack.requirements",  # whether the native topology can run here
}


def server_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        found |= {
            n
            for n in names
            if n.startswith("oncallnova") and not n.startswith("oncallnova.operator")
        }
    return found


def test_the_operator_package_imports_only_pure_helpers():
    files = sorted(OPERATOR.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        extra = server_imports(path) - ALLOWED
        assert not extra, f"{path.relative_to(OPERATOR)} imports {sorted(extra)}"
