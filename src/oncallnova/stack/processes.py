"""Starting, probing and stopping the processes of a stack."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from oncallnova.deploy.probe import check_http
from oncallnova.stack.state import GATEWAY, Proc, running


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def spawn(
    name: str,
    role: str,
    argv: list[str],
    env: Mapping[str, str],
    logs: Path,
    *,
    http_port: int | None = None,
    grpc_port: int | None = None,
) -> Proc:
    """Starts `argv` in a session of its own (it outlives a detached `stack up`, and a
    Ctrl-C in the terminal reaches only the supervisor, which stops it in order), its
    output appended to `logs/<name>.log`."""
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 (our own command line, no shell)
            argv,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _until_exec_done(process)
    return Proc(name, role, process.pid, argv, str(log), http_port, grpc_port)


def _until_exec_done(process: subprocess.Popen[bytes], within: float = 5.0) -> None:
    """Popen returns once the new program has replaced the child, a moment before the
    kernel has filled in its command line: until then /proc shows an empty one, and
    `running` takes the process for another. On a busy machine, starting Traefik's large
    binary last, that is the likely cause of a stack reporting Traefik as exited while
    it ran on (and was then left running by the cleanup, which saw no process to stop)."""
    cmdline = Path(f"/proc/{process.pid}/cmdline")
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if cmdline.read_bytes():
                return
        except OSError:
            return  # gone already, or no /proc here: `running` tells
        time.sleep(0.01)


def health(proc: Proc, timeout: float = 2.0) -> str | None:
    """None when healthy, else why not: `/health` of a role that listens (the gateway:
    Traefik's ping), a live process for the engine."""
    if not running(proc):
        return "not running"
    if proc.role == GATEWAY:
        return check_http(f"http://127.0.0.1:{proc.http_port}/ping", timeout)
    if proc.url is None:
        return None
    return check_http(f"{proc.url}/health", timeout)


def wait_healthy(
    procs: Iterable[Proc],
    timeout: float,
    extra: Callable[[], str | None] = lambda: None,
    progress: Callable[[list[str]], None] = lambda _: None,
) -> None:
    """Until every process is healthy and `extra` passes; raises `StackError` naming
    what is not, at the deadline or as soon as a process has exited."""
    waiting = list(procs)
    deadline = time.monotonic() + timeout
    while True:
        problems = {proc.name: health(proc) for proc in waiting}
        gone = [name for name, problem in problems.items() if problem == "not running"]
        if gone:
            raise StackError(f"exited while starting: {', '.join(gone)} (see its log)")
        waiting = [proc for proc in waiting if problems[proc.name]]
        last = None if waiting else extra()
        if not waiting and last is None:
            return
        progress([proc.name for proc in waiting] or ["gateway routes"])
        if time.monotonic() > deadline:
            details = [f"{proc.name}: {problems[proc.name]}" for proc in waiting]
            raise StackError("not healthy in time: " + "; ".join(details or [str(last)]))
        time.sleep(0.5)


def stop(procs: Iterable[Proc], timeout: float = 40.0) -> list[str]:
    """SIGTERM to each (they finish requests and store queued alerts), SIGKILL to those
    still running at the deadline. Returns the names that had to be killed."""
    targets = [proc for proc in procs if running(proc)]
    for proc in targets:
        _signal(proc, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reap()
        if not any(running(proc) for proc in targets):
            return []
        time.sleep(0.1)
    killed = [proc for proc in targets if running(proc)]
    for proc in killed:
        _signal(proc, signal.SIGKILL)
    reap()
    return [proc.name for proc in killed]


def _signal(proc: Proc, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, sig)


def reap() -> None:
    """Collect the exit status of our children that ended (a foreground supervisor's)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class StackError(Exception):
    """Something about the stack that the operator must be told in one line."""
