"""Ports for the servers tests start.

A port the kernel hands out for `bind(0)` comes from the ephemeral range, which is also
where outgoing connections take their source ports: between the test closing its probe
socket and the server binding the port, a connection of another process (to PostgreSQL,
Redis, a gRPC peer) can take it. Ports are therefore drawn below that range, checked
free, and never handed out twice by one test run.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_handed_out: set[int] = set()


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    high = _ephemeral_start() - 1
    low = max(1024, high - 12000)
    for _ in range(1000):
        port = random.randint(low, high)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port between {low} and {high}")
