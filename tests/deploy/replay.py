"""Replays deploy/Dockerfile's install natively, and runs what it installed.

The build stage's steps are read from the Dockerfile itself: ENV and WORKDIR are kept,
COPY copies from the repository, and every `uv sync` runs with the uv the Makefile pins,
as a non-root user (`nobody` when the tests run as root), into a directory standing for
the image's root. Its other RUN lines only install uv and create the build user, which
this machine already has an equivalent of. The runtime stage's single COPY is replayed
too: the environment ends up owned by root, readable but not writable by the user that
runs the roles.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import need_service
from tests.deploy.conftest import DOCKERFILE, ROOT, stages

UV = ROOT / ".tools" / "bin" / "uv"
# Interpreters a non-root user can run (not one under /root, as pyenv's): the image's
# Python 3.11 if the machine has it, else the system's, which the lock also allows.
PYTHONS = ("/usr/local/bin/python3.11", "/usr/bin/python3.11", "/usr/bin/python3")
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
PLUMBING = ("pip install", "useradd", "install -d")
PASS_THROUGH = ("UV_INDEX", "UV_NATIVE_TLS", "SSL_CERT", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")


@dataclass
class User:
    uid: int
    gid: int

    @classmethod
    def unprivileged(cls) -> User:
        if os.geteuid() != 0:
            return cls(os.getuid(), os.getgid())
        nobody = pwd.getpwnam("nobody")
        return cls(nobody.pw_uid, nobody.pw_gid)

    def own(self, path: Path) -> None:
        if os.geteuid() == 0:
            for item in [path, *path.rglob("*")]:
                os.chown(item, self.uid, self.gid, follow_symlinks=False)

    def popen_args(self) -> dict[str, object]:
        if os.geteuid() != 0:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


@dataclass
class Image:
    """The replayed image: a directory standing for `/`, the environment in it."""

    root: Path
    user: User
    # The build stage's ENV (paths moved under `root`), and the runtime stage's.
    env: dict[str, str] = field(default_factory=dict)
    runtime_env: dict[str, str] = field(default_factory=dict)

    def path(self, inside: str) -> Path:
        return self.root / inside.lstrip("/")

    @property
    def venv(self) -> Path:
        return Path(self.env["UV_PROJECT_ENVIRONMENT"])  # already under `root`

    def base_env(self) -> dict[str, str]:
        """A clean environment for the image's user (nothing of the test process leaks)."""
        home = self.root / "home"
        home.mkdir(exist_ok=True)
        self.user.own(home)
        return {"PATH": SYSTEM_PATH, "HOME": str(home), "LANG": "C.UTF-8"}

    def role_env(self) -> dict[str, str]:
        """What a container of the image starts with: the runtime stage's ENV."""
        return {**self.base_env(), **self.runtime_env}


def interpreter(user: User) -> str:
    for candidate in (python for python in PYTHONS if Path(python).exists()):
        probe = subprocess.run(
            [candidate, "-c", "import sys; assert sys.version_info >= (3, 11)"],
            capture_output=True,
            check=False,
            **user.popen_args(),  # type: ignore[arg-type]
        )
        if probe.returncode == 0:
            return candidate
    need_service("Python 3.11+ for a non-root user", FileNotFoundError(", ".join(PYTHONS)))
    raise AssertionError("unreachable")


def _scratch() -> str | None:
    """Memory-backed /dev/shm when it allows running programs: the environment's ten
    thousand files are written and removed in a blink there, and slowly on a busy disk."""
    shm = "/dev/shm"
    usable = os.path.isdir(shm) and os.access(shm, os.W_OK)
    return shm if usable and not os.statvfs(shm).f_flag & os.ST_NOEXEC else None


def _moved(image: Image, value: str) -> str:
    """An ENV value with the image's paths moved under its root; the system's own
    directories (the interpreter's, on $PATH) stay where they are."""
    value = value.replace("$PATH", SYSTEM_PATH)
    system = SYSTEM_PATH.split(":")
    return ":".join(
        str(image.path(part)) if part.startswith("/") and part not in system else part
        for part in value.split(":")
    )


def _env_pairs(args: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in shlex.split(args))


def build(cache: Path) -> Image:
    """Runs the build stage and the runtime stage's COPY; returns the image."""
    if not UV.exists():
        need_service("uv", FileNotFoundError(f"{UV}: run `make install`"))
    root = Path(tempfile.mkdtemp(prefix="oncallnova-image-", dir=_scratch()))
    root.chmod(0o755)
    try:
        return _build(Image(root, User.unprivileged()), cache)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def _build(image: Image, cache: Path) -> Image:
    root = image.root
    python = interpreter(image.user)
    cache.mkdir(parents=True, exist_ok=True)
    image.user.own(cache)
    workdir = root
    build_stage, runtime_stage = stages(DOCKERFILE.read_text(encoding="utf-8")).values()
    for word, args in build_stage:
        if word == "ENV":
            for name, value in _env_pairs(args).items():
                image.env[name] = _moved(image, value)
        elif word == "WORKDIR":
            workdir = image.path(args)
        elif word == "COPY":
            *sources, target = [a for a in shlex.split(args) if not a.startswith("--")]
            for source in sources:
                into = target.endswith("/")
                _copy(ROOT / source, workdir / target / source if into else workdir / target)
        elif word == "RUN" and "uv sync" in args:
            for directory in (workdir, image.venv):
                directory.mkdir(parents=True, exist_ok=True)
                image.user.own(directory)
            image.user.own(workdir)
            command = shlex.split(args)
            assert command[0] == "uv", args
            env = {**image.base_env(), **image.env, "UV_PYTHON": python, "UV_CACHE_DIR": str(cache)}
            # The machine's package index settings (a mirror or a proxy) still apply.
            env.update({k: v for k, v in os.environ.items() if k.startswith(PASS_THROUGH)})
            result = subprocess.run(
                [str(UV), *command[1:]],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
                **image.user.popen_args(),  # type: ignore[arg-type]
            )
            assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
        elif word == "RUN":
            assert any(step in args for step in PLUMBING), f"not replayed: RUN {args}"
    for word, args in runtime_stage:
        if word == "ENV":
            for name, value in _env_pairs(args).items():
                image.runtime_env[name] = _moved(image, value)
    copies = [args for word, args in runtime_stage if word == "COPY"]
    assert copies == ["--from=build --chown=root:root /opt/oncallnova /opt/oncallnova"]
    if os.geteuid() == 0:
        for item in [image.venv, *image.venv.rglob("*")]:
            os.chown(item, 0, 0, follow_symlinks=False)
    return image


def _copy(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(source, destination, ignore=ignore, dirs_exist_ok=True)
    else:
        shutil.copy2(source, destination)


def installed_megabytes(path: Path) -> float:
    total = sum(p.lstat().st_size for p in path.rglob("*") if not p.is_dir())
    return total / 1_000_000
