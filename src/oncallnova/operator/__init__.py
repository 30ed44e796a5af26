"""The operator's command line: commands that drive a running OnCallNova over its HTTP
API (login, status, demos, webhooks, analytics, security) and its deployment (Docker
Compose, or the native process topology). It imports nothing of the server but pure
shared helpers; everything else goes over HTTP."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the operator commands to the `oncallnova` command line."""
    from oncallnova.operator import (
        alert_cmds,
        analytics_cmds,
        auth_cmds,
        full_demo,
        health_cmds,
        scenario,
        security_cmds,
        webhook_cmds,
    )

    app.command("login")(auth_cmds.login)
    app.command("logout")(auth_cmds.logout)
    app.command("status")(health_cmds.status)
    app.command("health")(health_cmds.health)
    app.command("test-alert")(alert_cmds.test_alert)
    app.command("test-batch")(alert_cmds.test_batch)
    app.command("demo")(scenario.demo_command)
    app.command("full-demo")(full_demo.full_demo)
    app.command("webhook-add")(webhook_cmds.webhook_add)
    app.command("webhooks")(webhook_cmds.webhooks)
    app.command("analytics")(analytics_cmds.analytics)
    app.command("security")(security_cmds.security)
    app.command("check", help="Alias of `security`.")(security_cmds.security)

    from oncallnova.operator.deploy import commands as deployment

    app.command("deploy")(deployment.deploy)
    app.command("build")(deployment.build)
    app.command("down")(deployment.down)
    app.command("restart")(deployment.restart)
    app.command("clean")(deployment.clean)
    app.command("logs")(deployment.logs)
    app.command("scale")(deployment.scale)
    app.command("scale-down")(deployment.scale_down)
