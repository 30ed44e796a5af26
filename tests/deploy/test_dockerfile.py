"""deploy/Dockerfile: hadolint finds nothing, no stage ends as root, the runtime stage
installs nothing (so no compiler gets in), and it builds with the uv the Makefile pins."""

from __future__ import annotations

import re

from tests.deploy.conftest import DEPLOY, ROOT, run, venv_tool

DOCKERFILE = DEPLOY / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages(text: str) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for word, rest in instructions(text):
        if word == "FROM":
            name = rest.split()[-1] if " AS " in rest.upper() else str(len(out))
            current = out.setdefault(name, [])
        elif current is not None:
            current.append((word, rest))
    return out


def test_hadolint_finds_nothing() -> None:
    result = run(venv_tool("hadolint"), "--no-color", str(DOCKERFILE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_no_stage_ends_as_root() -> None:
    found = stages(DOCKERFILE.read_text(encoding="utf-8"))
    assert list(found) == ["build", "runtime"]
    for name, body in found.items():
        users = [rest for word, rest in body if word == "USER"]
        assert users, f"stage {name} never leaves root"
        # Numeric, so Kubernetes' runAsNonRoot can verify it.
        assert re.fullmatch(r"[1-9]\d*(:\d+)?", users[-1]), (name, users[-1])


def test_the_runtime_stage_installs_nothing_and_runs_oncallnova() -> None:
    runtime = stages(DOCKERFILE.read_text(encoding="utf-8"))["runtime"]
    runs = " ".join(rest for word, rest in runtime if word == "RUN")
    assert not re.search(r"apt-get|apk |pip |uv |gcc|cc |make|build-essential", runs), runs
    copies = [rest for word, rest in runtime if word == "COPY"]
    assert copies == ["--from=build --chown=root:root /opt/oncallnova /opt/oncallnova"]
    assert ("ENTRYPOINT", '["oncallnova"]') in runtime


def test_the_build_uses_the_lock_and_the_makefiles_uv() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    pinned = re.search(r"^UV_VERSION := (\S+)$", makefile, re.M)
    assert pinned is not None
    assert f"ARG UV_VERSION={pinned.group(1)}" in text
    syncs = [rest for word, rest in stages(text)["build"] if word == "RUN" and "uv sync" in rest]
    assert syncs and all("--frozen" in s and "--no-dev" in s for s in syncs)
    assert re.search(r"^ARG PYTHON_IMAGE=python:\d+\.\d+\.\d+-slim-\w+$", text, re.M)
