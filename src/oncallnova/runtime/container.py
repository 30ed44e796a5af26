"""Composition root: builds every part of OnCallNova from Settings.

Nothing here is global, so two complete instances can live in one test process.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.alerts.ingest import Ingestor
from oncallnova.alerts.ingestion import Ingestion
from oncallnova.alerts.requests import AlertRequests, Beats
from oncallnova.alerts.service import AlertQueries
from oncallnova.analytics.service import AnalyticsService
from oncallnova.auth.audit import AuditLog
from oncallnova.auth.secrets import load_or_create_secret
from oncallnova.auth.service import AuthService
from oncallnova.auth.throttle import MemoryFailures, RedisFailures, SignInThrottle
from oncallnova.core.authz import SYSTEM
from oncallnova.core.bus import EventBus
from oncallnova.core.clock import Clock, SystemClock
from oncallnova.core.db import Database
from oncallnova.core.logs import role_var
from oncallnova.core.metrics import Metrics, StateReader
from oncallnova.core.ratelimit import RedisBreaker, redis_client
from oncallnova.core.tracing import Tracing
from oncallnova.engine.runner import Engine
from oncallnova.incidents.escalation import Escalation
from oncallnova.incidents.holds import Holds
from oncallnova.incidents.service import IncidentService
from oncallnova.incidents.similar import SimilarIncidentsFinder
from oncallnova.notify import ssrf
from oncallnova.notify.personal import PersonalTests
from oncallnova.notify.service import Outbox
from oncallnova.notify.webhooks import WebhookService
from oncallnova.oncall.now import WhoIsOnCall
from oncallnova.oncall.policies import PolicyService
from oncallnova.oncall.schedules import ScheduleService
from oncallnova.oncall.usage import user_uses
from oncallnova.runtime import engine_parts, quiet
from oncallnova.runtime.grpc_serving import GrpcEndpoint
from oncallnova.runtime.migrate import upgrade
from oncallnova.runtime.redis_parts import key_sharing, publish_changes, redis_channels
from oncallnova.runtime.roles import RoleName
from oncallnova.runtime.services import Services
from oncallnova.services.names import ServiceNames
from oncallnova.services.service import ServiceCatalog
from oncallnova.services.usage import policy_uses
from oncallnova.settings import Settings
from oncallnova.suppression.active import QuietCache
from oncallnova.transport.changes import ChangeFeed
from oncallnova.users.contacts import ContactPreferences
from oncallnova.users.service import UserService


def sign_in_throttle(settings: Settings, breaker: RedisBreaker) -> SignInThrottle:
    """Failed sign-ins counted in Redis when `REDIS_URL` is set (shared by every
    process), else in this process."""
    if not settings.redis_url:
        return SignInThrottle(MemoryFailures())
    prefix = f"{settings.rate_limit_redis_prefix}:signin"
    return SignInThrottle(RedisFailures(redis_client(settings.redis_url, 0.5), prefix, breaker))


class Runtime:
    """The parts of a role that owns the data (`all`, `incidents`, `oncall`, `engine`,
    `metrics`): every domain's use cases on the database, and the background parts
    (ingestion writers, engine, gRPC server) that its role runs."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock | None = None,
        tracing: Tracing | None = None,
        *,
        role: RoleName = RoleName.all,
        grpc: GrpcEndpoint | None = None,
    ) -> None:
        self.settings = settings
        self.role = role
        self.grpc = grpc or GrpcEndpoint(role, None)
        self.clock: Clock = clock or SystemClock()
        # Traces: this Runtime's tracer; a no-op one without an OTLP endpoint.
        self.tracing = tracing or Tracing.from_settings(settings, role=role_var.get() or role)
        self._changes: ChangeFeed | None = None
        self.db = Database(
            settings.resolved_database_url(),
            pool_size=settings.db_pool_size,
            sqlite_synchronous=settings.sqlite_synchronous,
        )
        for engine in self.db.engines:
            self.tracing.instrument(engine)
        self.bus = EventBus()
        # Metrics: this Runtime's own registry; state is read at scrape time.
        self.metrics = Metrics(StateReader(self.db, self._on_call_user_ids))
        # One breaker for every Redis user of this process: a hung Redis is noticed once.
        self.redis_breaker = RedisBreaker(count=self.metrics.count_redis_unavailable)
        self.pubsub = redis_channels(settings, self.metrics)
        publish_changes(self.bus, self.pubsub)
        # Deleting what pages still depend on is refused (a user in a layer or a level).
        vet = partial(ssrf.vet, allow_private=settings.webhook_allow_private)
        self.users = UserService(self.db, self.clock, usage_checks=[user_uses], check_url=vet)
        self.contacts = ContactPreferences(self.db, self.clock, check_url=vet)
        self.auth = AuthService(
            self.db,
            self.clock,
            self.users,
            secret=load_or_create_secret(settings.jwt_secret, settings.data_dir),
            lifetime=timedelta(hours=settings.jwt_expire_hours),
            throttle=sign_in_throttle(settings, self.redis_breaker),
        )
        self.audit = AuditLog(self.db, self.clock)
        self.schedules = ScheduleService(
            self.db, self.clock, self.users, base_url=settings.base_url
        )
        self.policies = PolicyService(
            self.db,
            self.clock,
            self.users,
            self.schedules,
            default_delay_seconds=settings.escalation_timeout_seconds,
            usage_checks=[policy_uses],
        )
        # Names of services, for what incidents and notifications show; the catalogue's
        # own lookups share it.
        names = ServiceNames(self.db, settings.integration_key_cache_seconds)
        self.outbox = Outbox(
            self.db, self.clock, self.users, service_names=names, tracing=self.tracing
        )
        self.webhooks = WebhookService(
            self.db, self.clock, self.outbox, allow_private=settings.webhook_allow_private
        )
        self.alerts = AlertQueries(self.db)
        self.incidents = IncidentService(
            self.db,
            self.clock,
            self.alerts,
            self.outbox,
            policies=self.policies,
            service_names=names,
            tracing=self.tracing,
        )
        # Silences and maintenance windows hold incidents: ingestion and escalation
        # both read them (the cache is ingestion's; escalation reads fresh).
        holds, cache = Holds(self.alerts), QuietCache(settings.silence_cache_seconds)
        self.escalation = Escalation(
            self.db,
            self.clock,
            users=self.users,
            schedules=self.schedules,
            policies=self.policies,
            notify=self.outbox,
            present=self.incidents.outs,
            metrics=self.metrics,  # counts unpaged incidents
            holds=holds,
            quiet=cache,
        )
        self.similar_incidents = SimilarIncidentsFinder(self.db, self.alerts, self.incidents.outs)
        self.services = ServiceCatalog(
            self.db,
            self.clock,
            self.incidents,
            self.users,
            self.policies,
            names,
            default_window_seconds=settings.correlation_window_seconds,
            key_cache_seconds=settings.integration_key_cache_seconds,
            sharing=key_sharing(settings, self.pubsub, self.redis_breaker),
        )
        self.oncall = WhoIsOnCall(
            self.db, self.clock, self.users, self.schedules, self.policies, self.services
        )
        self.analytics = AnalyticsService(self.db, self.clock)
        self.db.before_commit.append(self.outbox.write_events)
        self.db.before_commit.append(self.audit.write_notes)
        self.db.after_commit.append(self._after_commit)
        self.contact_tests = PersonalTests(self.db, self.clock, self.users, self.schedules)
        self.ingestor = Ingestor(
            self.db,
            self.clock,
            self.incidents,
            queue_limit=settings.ingest_queue_limit,
            writers=1 if self.db.is_sqlite else settings.ingest_writers,
            tracing=self.tracing,
            count=self.metrics.count_ingested,
            quiet=cache,
        )
        self.ingestion = Ingestion(self.services, self.ingestor)
        self.alert_requests = AlertRequests(self.db, self.clock, self.ingestion, self.incidents)
        # Heartbeats, silences, maintenance windows, acknowledgement timeout, auto-resolve.
        self.quiet = quiet.build(
            self.db,
            self.clock,
            cache,
            holds,
            alerts=self.alerts,
            incidents=self.incidents,
            catalog=self.services,
            writer=self.ingestor,
            base_url=settings.base_url,
        )
        self.metrics.state_sources.append(self.quiet.metrics)
        # The engine and its delivery channels, only for the roles that run it.
        self.engine: Engine | None = None
        if role in (RoleName.all, RoleName.engine):
            parts = engine_parts.build(
                settings,
                self.db,
                self.clock,
                self.metrics,
                self.tracing,
                webhooks=self.webhooks,
                users=self.users,
                outbox=self.outbox,
                escalation=self.escalation,
                schedules=self.schedules,
                quiet=self.quiet,
            )
            self.engine, self.dispatcher = parts.engine, parts.dispatcher
            self.webhook_channel = parts.webhook_channel
        self.use_cases = Services(
            settings=settings,
            clock=self.clock,
            metrics=self.metrics,
            ingestion=self.ingestion,
            incidents=self.incidents,
            escalation=self.escalation,
            similar_incidents=self.similar_incidents,
            oncall=self.oncall,
            schedules=self.schedules,
            policies=self.policies,
            catalog=self.services,
            users=self.users,
            auth=self.auth,
            audit=self.audit,
            webhooks=self.webhooks,
            contacts=self.contacts,
            contact_tests=self.contact_tests,
            analytics=self.analytics,
            alert_requests=self.alert_requests,
            integration_beats=Beats(self.db, self.clock),
            heartbeats=self.quiet.heartbeats,
            beats=self.quiet.heartbeats,
            silences=self.quiet.silences,
            maintenance=self.quiet.maintenance,
            ping_database=self.db.ping,
            database_failed=self.db.outage.failed,
        )

    async def _on_call_user_ids(self) -> list[str]:
        """Everyone on call now in any schedule (for the metrics snapshot)."""
        entries = await self.schedules.now_per_schedule(SYSTEM)
        return [user_id for entry in entries for user_id in entry.user_ids]

    def _after_commit(self, session: AsyncSession) -> None:
        """Once a write is durable: publish its events, wake the engine for new work."""
        events = session.info.pop("events", [])
        if events:
            self.bus.publish(events)
        if self.engine is None:
            return  # another process's engine finds the work on its next pass
        if session.info.pop("outbox", False):
            self.engine.wake("dispatch")  # notifications to send
        if any(e.type == "incident.new" for e in events):
            self.engine.wake("escalation")  # its first page is due now

    async def start(self, *, migrate: bool = True, engine: bool = True, api: bool = True) -> None:
        """Start the parts of the chosen role: the API's ingestion writers, the engine,
        the gRPC server."""
        if migrate:
            await upgrade(self.db)
        if self.pubsub is not None:
            await self.pubsub.start()
        if api and self.role in (RoleName.all, RoleName.incidents):
            self.ingestor.start()
        if engine and self.engine is not None:
            self.engine.start()
        if self.grpc.address is not None:
            # For the WatchChanges streams of web replicas.
            self._changes = ChangeFeed(self.incidents.change_marker, pubsub=self.pubsub)
            self.bus.subscribe(self._changes.on_event)
            await self.grpc.start(self.use_cases, self._changes, self.clock, self.tracing)

    async def stop(self) -> None:
        await self.grpc.stop()
        if self._changes is not None:
            self._changes.close()
        await self.ingestor.stop()
        if self.engine is not None:
            await self.engine.stop()
            await self.webhook_channel.close()
        await self.auth.aclose()
        if self.pubsub is not None:
            await self.pubsub.aclose()
        await self.db.dispose()
        self.tracing.shutdown()
