"""The use cases under test, two ways: as the all-in-one calls them (in process), and as
the split roles call them (gRPC clients over a real connection to a server that serves
the same runtime's use cases). Every test that takes `uc` runs both ways, as the tests
that take `backend` run on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from oncallnova.runtime.container import Runtime
from oncallnova.runtime.services import Services
from tests.support.remote import served_remotely


@pytest.fixture(params=["in-process", "grpc"])
async def uc(request: pytest.FixtureRequest, rt: Runtime) -> AsyncIterator[Services]:
    if request.param == "in-process":
        yield rt.use_cases
        return
    async with served_remotely(rt) as remote:
        yield remote.use_cases
