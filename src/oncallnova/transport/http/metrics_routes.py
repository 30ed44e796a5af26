"""`GET /metrics`: Prometheus text exposition of this Runtime's registry.

Left out of the OpenAPI document: it is not a JSON API, and it has its own credential.
With `METRICS_TOKEN` set, a scrape must send `Authorization: Bearer <METRICS_TOKEN>`
(compared in constant time); without it, /metrics is open, like most exporters.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response

from oncallnova.core.metrics import CONTENT_TYPE
from oncallnova.transport.http.deps import use_cases

router = APIRouter(tags=["metrics"])


def _authorized(request: Request, token: str | None) -> bool:
    if not token:
        return True
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    svc = use_cases(request)
    if not _authorized(request, svc.settings.metrics_token):
        return Response(
            "missing or wrong metrics token: send 'Authorization: Bearer <METRICS_TOKEN>'\n",
            status_code=401,
            media_type="text/plain",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Response(await svc.metrics.exposition(), media_type=CONTENT_TYPE)
