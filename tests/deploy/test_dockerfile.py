"""deploy/Dockerfile: hadolint finds nothing, no stage ends as root, the runtime stage
installs nothing (so no compiler gets in), and it builds with the uv the Makefile pins."""

from __future__ import annotations

import re

from tests.deploy.conftest import DOCKERFILE, ROOT, run, stages, venv_tool


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


def test_the_build_context_holds_what_the_build_copies_and_nothing_else() -> None:
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    rules = [line for line in ignore if line and not line.startswith("#")]
    assert rules[0] == "*"
    kept = {rule[1:] for rule in rules if rule.startswith("!")}
    build = stages(DOCKERFILE.read_text(encoding="utf-8"))["build"]
    copied = {
        source
        for word, rest in build
        if word == "COPY"
        for source in rest.split()[:-1]
        if not source.startswith("--")
    }
    assert copied == kept
