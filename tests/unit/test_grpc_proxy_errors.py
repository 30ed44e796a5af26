"""A call failed by a proxy on the way (the gateway's answer, not the service's) is a
service unavailable for a moment, which callers retry, never an unexplained error."""

from __future__ import annotations

import grpc

from oncallnova.core.errors import Unavailable
from oncallnova.transport.grpc.errors import domain_error


def test_a_proxys_http_500_is_unavailable() -> None:
    # What grpcio reports when the gateway answers HTTP 500 (its replica died mid-call).
    found = domain_error(grpc.StatusCode.UNKNOWN, "Received http2 header with status: 500", ())
    assert isinstance(found, Unavailable)
    assert found.retry_after > 0


def test_a_services_own_unknown_error_stays_unexplained() -> None:
    assert domain_error(grpc.StatusCode.UNKNOWN, "Exception calling application", ()) is None
