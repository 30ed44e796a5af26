"""Every web page test runs twice: on the all-in-one's app, and on the app the split's
`web` role serves, whose every use case is a gRPC client of the runtime under test (so
the pages, their forms and their errors are shown to work unchanged over gRPC)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from oncallnova.runtime.container import Runtime
from tests.conftest import REMOTE_HOSTS
from tests.support.remote import served_remotely


@pytest.fixture(autouse=True, params=["in-process", "grpc"])
async def pages_over(request: pytest.FixtureRequest, rt: Runtime) -> AsyncIterator[str]:
    if request.param == "in-process":
        yield request.param
        return
    async with served_remotely(rt) as remote:
        REMOTE_HOSTS[id(rt)] = remote
        try:
            yield request.param
        finally:
            REMOTE_HOSTS.pop(id(rt), None)
