"""`oncallnova.v1.AnalyticsService` over the analytics use cases."""

from __future__ import annotations

from typing import Any

from oncallnova.analytics.api import AnalyticsService
from oncallnova.analytics.schemas import AnalyticsQuery
from oncallnova.transport.grpc.convert import request_value, to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import analytics_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import analytics_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import current_principal

Context = Any


class AnalyticsServicer(pb_grpc.AnalyticsServiceServicer):
    def __init__(self, analytics: AnalyticsService) -> None:
        self._analytics = analytics

    async def GetTrends(self, request: pb.GetTrendsRequest, context: Context) -> pb.Trends:
        query = request_value(request.query, AnalyticsQuery)
        found = await self._analytics.trends(current_principal(), query, request.bucket)
        return to_message(found, pb.Trends)

    async def GetDistribution(
        self, request: pb.GetDistributionRequest, context: Context
    ) -> pb.Distribution:
        query = request_value(request.query, AnalyticsQuery)
        found = await self._analytics.distribution(current_principal(), query)
        return to_message(found, pb.Distribution)

    async def GetSummary(self, request: pb.GetSummaryRequest, context: Context) -> pb.Summary:
        query = request_value(request.query, AnalyticsQuery)
        return to_message(await self._analytics.summary(current_principal(), query), pb.Summary)
