"""The gateway's rate limit follows OnCallNova's own settings (a stack writes it from
them): the same rate and burst, none when limits are off; a retry of a replica that
refuses connections is on every router either way."""

from __future__ import annotations

from oncallnova.deploy import gateway
from oncallnova.settings import Settings


def middlewares_of(config: dict) -> tuple[dict, dict]:
    http = config["http"]
    return http["middlewares"], {name: r.get("middlewares") for name, r in http["routers"].items()}


def test_the_limit_is_the_settings_one() -> None:
    limits = gateway.Limits.of(Settings(RATE_LIMIT_PER_SECOND=250, RATE_LIMIT_BURST=70))
    middlewares, routers = middlewares_of(gateway.routing(limits))
    assert middlewares[gateway.RATE_LIMIT]["rateLimit"] == {
        "average": 250,
        "burst": 70,
        "period": "1s",
    }
    assert routers["web"] == [gateway.RATE_LIMIT, gateway.RETRY]
    assert routers["incidents-grpc"] == [gateway.RETRY]  # calls between roles: no limit


def test_no_limit_at_the_gateway_when_limits_are_off() -> None:
    limits = gateway.Limits.of(Settings(RATE_LIMIT_ENABLED=False))
    middlewares, routers = middlewares_of(gateway.routing(limits))
    assert gateway.RATE_LIMIT not in middlewares
    assert {tuple(m) for m in routers.values()} == {(gateway.RETRY,)}


def test_the_default_is_oncallnovas_default() -> None:
    assert gateway.Limits() == gateway.Limits.of(Settings())
    assert (gateway.Limits().per_second, gateway.Limits().burst) == (100, 50)
