"""The engine and what only it needs (the delivery channels, the dispatcher), built for
the roles that run it (`all`, `engine`) and for no other."""

from __future__ import annotations

from dataclasses import dataclass

from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.metrics import Metrics
from oncallnova.core.tracing import Tracing
from oncallnova.engine.dispatch import Dispatcher
from oncallnova.engine.escalation import EscalationReconciler
from oncallnova.engine.rules import RemindersReconciler, RulesReconciler
from oncallnova.engine.runner import Engine
from oncallnova.incidents.escalation import Escalation
from oncallnova.notify.contacts import HTTP_CHANNELS, ContactDirectory
from oncallnova.notify.reminders import ShiftReminders
from oncallnova.notify.service import Outbox
from oncallnova.notify.webhooks import WebhookService
from oncallnova.oncall.schedules import ScheduleService
from oncallnova.runtime.quiet import Quiet
from oncallnova.settings import Settings
from oncallnova.transport.email.channel import EmailChannel, SmtpConfig
from oncallnova.transport.webhooks.channel import WebhookChannel
from oncallnova.users.service import UserService


@dataclass(frozen=True)
class EngineParts:
    engine: Engine
    dispatcher: Dispatcher
    webhook_channel: WebhookChannel  # closed when the role stops


def build(
    settings: Settings,
    db: Database,
    clock: Clock,
    metrics: Metrics,
    tracing: Tracing,
    *,
    webhooks: WebhookService,
    users: UserService,
    outbox: Outbox,
    escalation: Escalation,
    schedules: ScheduleService,
    quiet: Quiet,
) -> EngineParts:
    webhook_channel = WebhookChannel(
        webhooks.target,
        contacts=ContactDirectory(db, users).target,
        base_url=settings.base_url,
        timeout=settings.webhook_timeout_seconds,
        allow_private=settings.webhook_allow_private,
    )
    email = EmailChannel(
        SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        ),
        settings.base_url,
        clock=clock,
    )
    dispatcher = Dispatcher(
        db,
        clock,
        {"email": email, **dict.fromkeys(("webhook", *HTTP_CHANNELS), webhook_channel)},
        retry_delays=settings.retry_delays(),
        lease_seconds=settings.notify_lease_seconds,
        poll_seconds=settings.engine_interval_seconds,
        crash_after_claim=settings.fault_crash_after_claim,
        metrics=metrics,
        tracing=tracing,
    )
    engine = Engine(
        [
            EscalationReconciler(escalation, metrics, tracing),
            RulesReconciler(outbox.paging, tracing),
            RemindersReconciler(ShiftReminders(db, users, schedules)),
            dispatcher,
            *quiet.reconcilers(tracing),
        ],
        clock,
        interval=settings.engine_interval_seconds,
        outage=db.outage,
    )
    return EngineParts(engine, dispatcher, webhook_channel)
