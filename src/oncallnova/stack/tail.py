"""Reading the stack's log files: the last lines of each, and following them."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path


def last_lines(path: Path, count: int) -> list[str]:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return [line.rstrip("\n") for line in deque(handle, maxlen=count)]
    except FileNotFoundError:
        return []


def follow(paths: Mapping[str, Path], poll: float = 0.3) -> Iterator[tuple[str, str]]:
    """(name, line) for every line written to the files from now on, until interrupted."""
    offsets = {name: path.stat().st_size if path.exists() else 0 for name, path in paths.items()}
    pending = dict.fromkeys(paths, "")
    while True:
        for name, path in paths.items():
            try:
                with path.open("rb") as handle:
                    handle.seek(offsets[name])
                    chunk = handle.read()
            except FileNotFoundError:
                continue
            offsets[name] += len(chunk)
            text = pending[name] + chunk.decode(errors="replace")
            *complete, pending[name] = text.split("\n")
            for line in complete:
                yield name, line
        time.sleep(poll)
