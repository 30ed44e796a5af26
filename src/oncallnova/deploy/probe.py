"""A container health check: `python -m oncallnova.deploy.probe --http URL --grpc HOST:PORT`.

The runtime image is slim (no curl, no grpc_health_probe), so Compose and Kubernetes
probe a role with the interpreter it already has. Exit status 0 when every check
passes; otherwise 1, with one line per failed check on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence


def check_http(url: str, timeout: float) -> str | None:
    if not url.startswith(("http://", "https://")):
        return f"{url}: not an http(s) URL"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError as exc:
        return f"{url}: {exc}"
    return None if status == 200 else f"{url}: HTTP {status}"


def check_grpc(address: str, timeout: float) -> str | None:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout
            )
        except grpc.RpcError as exc:
            return f"grpc {address}: {exc.code().name}"
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        return f"grpc {address}: {health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)}"
    return None


def check_database(timeout: float) -> str | None:
    from oncallnova.core.db import Database
    from oncallnova.settings import Settings

    async def ping() -> None:
        db = Database(Settings().resolved_database_url(), pool_size=1)
        try:
            await asyncio.wait_for(db.ping(), timeout)
        finally:
            await db.dispose()

    try:
        asyncio.run(ping())
    except Exception as exc:  # any failure means unhealthy; the message says which
        return f"database: {type(exc).__name__}: {exc}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oncallnova.deploy.probe")
    parser.add_argument("--http", action="append", default=[], help="URL that must answer 200")
    parser.add_argument("--grpc", action="append", default=[], help="host:port serving health")
    parser.add_argument("--database", action="store_true", help="DATABASE_URL must answer")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per check")
    args = parser.parse_args(argv)
    failures = [check_http(url, args.timeout) for url in args.http]
    failures += [check_grpc(address, args.timeout) for address in args.grpc]
    if args.database:
        failures.append(check_database(args.timeout))
    found = [failure for failure in failures if failure]
    for failure in found:
        print(f"unhealthy: {failure}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
