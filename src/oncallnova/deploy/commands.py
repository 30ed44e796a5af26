"""How each role is started and probed, read from the roles table.

Compose, the Helm chart and the test that starts the roles from a fresh install all take
their command lines from here, so a port changed in `runtime/roles.py` changes all of
them at once.
"""

from __future__ import annotations

from oncallnova.runtime.roles import ROLES, RoleName

# Inside a container the role must listen on every interface of its network namespace.
LISTEN_ALL = "0.0.0.0"  # noqa: S104
LOOPBACK = "127.0.0.1"
PROBE_MODULE = "oncallnova.deploy.probe"


def serve_args(
    role: RoleName,
    *,
    host: str = LISTEN_ALL,
    http_port: int | None = None,
    grpc_port: int | None = None,
) -> list[str]:
    """`oncallnova` arguments that run `role`; ports default to the table's."""
    spec = ROLES[role]
    args = ["serve", "--role", role.value]
    if spec.http_port is not None:
        args += ["--host", host, "--port", str(http_port or spec.http_port)]
    if spec.grpc_port is not None:
        args += ["--grpc-port", str(grpc_port or spec.grpc_port)]
    return args


def probe_args(
    role: RoleName,
    *,
    python: str = "python",
    http_port: int | None = None,
    grpc_port: int | None = None,
) -> list[str]:
    """The health check of `role` from inside its container: `/health` over HTTP and
    the standard gRPC health service where the role listens; the engine, which has no
    port, checks that its database answers (its process is the container's, so a crash
    ends the container and the restart policy brings it back)."""
    spec = ROLES[role]
    args = [python, "-m", PROBE_MODULE]
    if spec.http_port is not None:
        args += ["--http", f"http://{LOOPBACK}:{http_port or spec.http_port}/health"]
    if spec.grpc_port is not None:
        args += ["--grpc", f"{LOOPBACK}:{grpc_port or spec.grpc_port}"]
    if spec.http_port is None and spec.grpc_port is None:
        args += ["--database"]
    return args
