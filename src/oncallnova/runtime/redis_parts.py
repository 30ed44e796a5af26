"""What a process shares through Redis when `REDIS_URL` is set, besides rate limits and
sign-in counts: pub/sub channels (change notices, key revocations) and the shared key
lookups. Without `REDIS_URL` there is none of it and every part works alone."""

from __future__ import annotations

from oncallnova.core.bus import Event, EventBus
from oncallnova.core.metrics import Metrics
from oncallnova.core.pubsub import CHANGES, RedisChannels
from oncallnova.core.ratelimit import RedisBreaker
from oncallnova.core.shared_cache import Sharing
from oncallnova.settings import Settings


def redis_channels(settings: Settings, metrics: Metrics) -> RedisChannels | None:
    if not settings.redis_url:
        return None
    return RedisChannels(
        settings.redis_url,
        settings.redis_prefix,
        count=metrics.count_pubsub_failure,
        live_gauge=metrics.set_pubsub_live,
    )


def key_sharing(
    settings: Settings, channels: RedisChannels | None, breaker: RedisBreaker
) -> Sharing | None:
    """How integration-key lookups are shared by every process (see core/shared_cache)."""
    if channels is None:
        return None
    return Sharing(
        channels, channels.commands, breaker, settings.integration_key_shared_cache_seconds
    )


def publish_changes(bus: EventBus, channels: RedisChannels | None) -> None:
    """Every incident change committed here is announced to every process's live feed."""
    if channels is None:
        return

    async def announce(event: Event) -> None:
        if event.type.startswith("incident."):
            channels.publish(CHANGES, "change")

    bus.subscribe(announce)
