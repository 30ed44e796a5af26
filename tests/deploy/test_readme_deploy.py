"""The README's deployment commands work as written, as far as this machine can run them
(no Docker daemon, no cluster): the lines that prepare `deploy/.env` give a file Compose
accepts, and the values file of "Deploy on Kubernetes" renders the chart."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml

from tests.deploy.conftest import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    ROOT,
    docker_compose,
    helm_sdk,
    run,
)

README = ROOT / "README.md"


def bash_block(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split(f"## {title}\n", 1)[1]
    match = re.search(r"```bash\n(.*?)```", section, re.S)
    assert match is not None, title
    return match.group(1)


def bash(script: str, cwd: Path) -> None:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_compose_steps_before_docker_make_an_env_compose_accepts(tmp_path: Path) -> None:
    block = bash_block("Deploy with Docker Compose")
    before_docker = block.split("\ndocker ", 1)[0]
    (tmp_path / "deploy").mkdir()
    shutil.copy(ENV_EXAMPLE, tmp_path / "deploy" / ".env.example")
    bash(before_docker, tmp_path)
    env = tmp_path / "deploy" / ".env"
    values = dict(
        line.split("=", 1) for line in env.read_text().splitlines() if re.match(r"[A-Z]", line)
    )
    secrets = [v for k, v in values.items() if k.endswith(("PASSWORD", "SECRET", "TOKEN"))]
    assert len(secrets) == 6 and all(re.fullmatch(r"[0-9a-f]{64}", v) for v in secrets)
    assert len(set(secrets)) == 6
    result = run(docker_compose(), "-f", str(COMPOSE_FILE), "--env-file", str(env), "config", "-q")
    assert result.returncode == 0, result.stderr
    for line in block.splitlines():
        if line.startswith("docker compose "):
            command = line.split("#")[0].split()[2:]
            help_text = run(docker_compose(), command[0], "--help").stdout
            for flag in (word for word in command[1:] if word.startswith("-")):
                assert flag in help_text, line


def test_the_kubernetes_values_file_renders_the_chart(tmp_path: Path) -> None:
    helm = helm_sdk()
    block = bash_block("Deploy on Kubernetes")
    heredoc = re.search(r"^cat > (\S+) <<(\w+)\n.*?^\2$", block, re.S | re.M)
    assert heredoc is not None
    bash(heredoc.group(0), tmp_path)
    values = yaml.safe_load((tmp_path / heredoc.group(1)).read_text())
    assert "helm install oncallnova deploy/helm/oncallnova" in block
    chart = helm.Chart.load(str(ROOT / "deploy" / "helm" / "oncallnova"))
    rendered = chart.render(values, name="oncallnova", namespace="oncallnova", is_install=True)
    docs = [
        d
        for path, text in rendered.items()
        if path.endswith(".yaml")
        for d in yaml.safe_load_all(text)
        if d
    ]
    (secret,) = [d for d in docs if d["kind"] == "Secret"]
    assert secret["metadata"]["name"] == "oncallnova"  # what the README deletes by hand
    assert len(secret["stringData"]["JWT_SECRET"]) == 64
    images = {
        c["image"]
        for d in docs
        if d["kind"] == "Deployment"
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"registry.example.com/oncallnova:0.1.0"}
