"""`AnalyticsService` over `oncallnova.v1.AnalyticsService`.

The service gives its times in the query's time zone (a day's bucket starts at local
midnight, and pages print it as it is); a Timestamp carries only the instant, so the
replies' times are put back in that zone here.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

import grpc
from pydantic import BaseModel

from oncallnova.analytics.schemas import AnalyticsQuery, DistributionOut, SummaryOut, TrendsOut
from oncallnova.core.authz import Principal
from oncallnova.transport.grpc.clients.calls import read
from oncallnova.transport.grpc.convert import to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import analytics_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import analytics_pb2_grpc as pb_grpc

M = TypeVar("M", bound=BaseModel)


def in_zone(value: M, zone: ZoneInfo) -> M:
    """`value` with every time in it (nested models and lists too) read in `zone`."""

    def zoned(item: object) -> object:
        if isinstance(item, datetime):
            return item.astimezone(zone)
        if isinstance(item, BaseModel):
            return in_zone(item, zone)
        if isinstance(item, list):
            return [zoned(x) for x in item]
        return item

    return value.model_copy(
        update={name: zoned(getattr(value, name)) for name in type(value).model_fields}
    )


class AnalyticsClient:
    """Implements `analytics.api.AnalyticsService`."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = pb_grpc.AnalyticsServiceStub(channel)

    async def distribution(self, actor: Principal, query: AnalyticsQuery) -> DistributionOut:
        request = pb.GetDistributionRequest(query=to_message(query, pb.AnalyticsQuery))
        found: DistributionOut = await read(
            actor, self._stub.GetDistribution, request, DistributionOut
        )
        return in_zone(found, ZoneInfo(found.tz))

    async def summary(self, actor: Principal, query: AnalyticsQuery) -> SummaryOut:
        request = pb.GetSummaryRequest(query=to_message(query, pb.AnalyticsQuery))
        found: SummaryOut = await read(actor, self._stub.GetSummary, request, SummaryOut)
        return in_zone(found, ZoneInfo(found.tz))

    async def trends(self, actor: Principal, query: AnalyticsQuery, bucket: str) -> TrendsOut:
        asked = to_message(query, pb.AnalyticsQuery)
        request = pb.GetTrendsRequest(query=asked, bucket=bucket)
        found: TrendsOut = await read(actor, self._stub.GetTrends, request, TrendsOut)
        return in_zone(found, ZoneInfo(found.tz))
