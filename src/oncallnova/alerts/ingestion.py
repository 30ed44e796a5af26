"""The ingestion use case: an integration key's alerts, authenticated, stored, counted.

Every ingestion transport (native alerts, the Alertmanager webhook, PagerDuty Events v2,
and later a gRPC front end) runs the same sequence: find the service the key names,
hand the alerts to the writer, count what was stored (the writer counts them when they
commit). It lives here once. The steps stay separate calls because a transport must
authenticate the key and refuse a full queue before it reads the body.
"""

from __future__ import annotations

from collections.abc import Awaitable

from oncallnova.alerts.api import IngestSource
from oncallnova.alerts.ingest import Ingestor
from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.alerts.schemas import AlertResult
from oncallnova.core.errors import Unauthenticated
from oncallnova.services.api import ServiceRoute, ServicesApi

_ACTORS: dict[str, str] = {
    "native": "integration:{}",
    "alertmanager": "alertmanager",
    "pagerduty": "pagerduty:{}",
    "opsgenie": "opsgenie:{}",
    "grafana_oncall": "grafana-oncall:{}",
}
MISSING_KEY = (
    "missing integration key: send it in the X-Routing-Key header"
    " or the routing_key query parameter"
)
UNKNOWN_KEY = "unknown or revoked integration key"


class Ingestion:
    """Implements `alerts.api.IngestionService` in process."""

    def __init__(self, routes: ServicesApi, ingestor: Ingestor) -> None:
        self._routes = routes
        self._ingestor = ingestor

    def refuse_if_full(self) -> None:
        """`Overloaded` while the queue is full; called before the body is read."""
        self._ingestor.refuse_if_full()

    async def authenticate(self, key: str | None) -> ServiceRoute:
        """The route of an active integration key; `Unauthenticated` for a missing,
        unknown or revoked one."""
        if not key:
            raise Unauthenticated(MISSING_KEY)
        route = await self._routes.route_for_key(key)
        if route is None:
            raise Unauthenticated(UNKNOWN_KEY)
        return route

    def ingest(
        self,
        route: ServiceRoute,
        alerts: list[NormalizedAlert],
        source: IngestSource,
        batch_id: str | None = None,
    ) -> Awaitable[list[AlertResult]]:
        """Store the alerts; the awaitable completes once they are committed, and the
        writer counts them then. The writer's own awaitable is handed back, so this use
        case adds no step to the hot path."""
        actor = _ACTORS[source].format(route.service_name)
        return self._ingestor.submit(route, alerts, actor, batch_id)
