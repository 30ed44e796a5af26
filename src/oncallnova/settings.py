"""Settings read from the environment (and an optional `.env` file)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob an operator can turn; names are the environment variables."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(default=Path("data"), alias="ONCALLNOVA_DATA_DIR")
    database_url: str = Field(default="", alias="DATABASE_URL")
    base_url: str = Field(default="http://127.0.0.1:8080", alias="ONCALLNOVA_BASE_URL")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    correlation_window_seconds: int = Field(default=300, ge=0, alias="CORRELATION_WINDOW_SECONDS")
    escalation_timeout_seconds: int = Field(default=120, ge=0, alias="ESCALATION_TIMEOUT_SECONDS")
    max_body_bytes: int = Field(default=512 * 1024, ge=1024, alias="MAX_BODY_BYTES")
    # Slow or idle clients (runtime/http_guard.py): deadlines for a request's headers
    # and body, and a cap on open connections past which new ones get 503.
    http_header_timeout_seconds: float = Field(
        default=10.0, gt=0, alias="HTTP_HEADER_TIMEOUT_SECONDS"
    )
    http_body_timeout_seconds: float = Field(default=30.0, gt=0, alias="HTTP_BODY_TIMEOUT_SECONDS")
    http_max_connections: int = Field(default=1000, ge=1, alias="HTTP_MAX_CONNECTIONS")
    max_batch_alerts: int = Field(default=1000, ge=1, alias="MAX_BATCH_ALERTS")
    ingest_queue_limit: int = Field(default=20000, ge=1, alias="INGEST_QUEUE_LIMIT")
    integration_key_cache_seconds: float = Field(
        default=2.0, ge=0, alias="INTEGRATION_KEY_CACHE_SECONDS"
    )
    # How long a process keeps the silences and maintenance windows ingestion checks.
    silence_cache_seconds: float = Field(default=2.0, ge=0, alias="SILENCE_CACHE_SECONDS")
    # With Redis, key lookups are shared and revokes reach every process at once, so
    # they are kept this long (the short time above applies while Redis is away).
    integration_key_shared_cache_seconds: float = Field(
        default=300.0, ge=0, alias="INTEGRATION_KEY_SHARED_CACHE_SECONDS"
    )
    ingest_writers: int = Field(default=1, ge=1, le=64, alias="INGEST_WRITERS")
    engine_interval_seconds: float = Field(default=1.0, gt=0, alias="ENGINE_INTERVAL_SECONDS")
    smtp_host: str | None = Field(default=None, alias="SMTP_HOST")
    smtp_port: int = Field(default=25, ge=1, le=65535, alias="SMTP_PORT")
    smtp_from: str = Field(default="oncallnova@localhost", alias="SMTP_FROM")
    smtp_username: str | None = Field(default=None, alias="SMTP_USERNAME")
    smtp_password: str | None = Field(default=None, alias="SMTP_PASSWORD")
    smtp_starttls: bool = Field(default=False, alias="SMTP_STARTTLS")
    webhook_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, alias="WEBHOOK_TIMEOUT_SECONDS"
    )
    # Webhooks to loopback and private ranges (see notify/ssrf.py); link-local never.
    webhook_allow_private: bool = Field(default=True, alias="WEBHOOK_ALLOW_PRIVATE")
    notify_retry_delays: str = Field(default="30,120,300,720", alias="NOTIFY_RETRY_DELAYS")
    notify_lease_seconds: float = Field(default=60.0, gt=0, alias="NOTIFY_LEASE_SECONDS")
    fault_crash_after_claim: bool = Field(default=False, alias="ONCALLNOVA_FAULT_CRASH_AFTER_CLAIM")
    jwt_secret: str | None = Field(default=None, alias="JWT_SECRET")
    jwt_expire_hours: float = Field(default=24.0, gt=0, le=24 * 365, alias="JWT_EXPIRE_HOURS")
    admin_email: str | None = Field(default=None, alias="ONCALLNOVA_ADMIN_EMAIL")
    admin_password: str | None = Field(default=None, alias="ONCALLNOVA_ADMIN_PASSWORD")
    db_pool_size: int = Field(default=10, ge=1, alias="DB_POOL_SIZE")
    sqlite_synchronous: str = Field(default="NORMAL", alias="SQLITE_SYNCHRONOUS")
    # Abuse limits: token buckets per client IP and per integration key. The
    # key limits default to the IP limits; with REDIS_URL the buckets are shared by
    # every server process through Redis.
    redis_url: str = Field(default="", alias="REDIS_URL")
    rate_limit_enabled: bool = Field(default=True, alias="RATE_LIMIT_ENABLED")
    rate_limit_per_second: float = Field(default=100.0, gt=0, alias="RATE_LIMIT_PER_SECOND")
    rate_limit_burst: int = Field(default=50, ge=1, alias="RATE_LIMIT_BURST")
    rate_limit_key_per_second: float | None = Field(
        default=None, gt=0, alias="RATE_LIMIT_KEY_PER_SECOND"
    )
    rate_limit_key_burst: int | None = Field(default=None, ge=1, alias="RATE_LIMIT_KEY_BURST")
    rate_limit_redis_prefix: str = Field(
        default="oncallnova:ratelimit", min_length=1, alias="RATE_LIMIT_REDIS_PREFIX"
    )
    # Pub/sub channels and shared caches: installations sharing one Redis use their own.
    redis_prefix: str = Field(default="oncallnova", min_length=1, alias="ONCALLNOVA_REDIS_PREFIX")
    trusted_proxies: str = Field(default="", alias="TRUSTED_PROXIES")
    # Prometheus /metrics: with a token, scrapes must send it as a bearer
    # token; unset (or empty), /metrics is open.
    metrics_token: str | None = Field(default=None, alias="METRICS_TOKEN")
    # Structured logs: JSON lines on stdout, optionally shipped to Loki.
    log_format: str = Field(default="json", alias="LOG_FORMAT")
    loki_url: str | None = Field(default=None, alias="LOKI_URL")
    environment: str = Field(default="production", min_length=1, alias="ONCALLNOVA_ENVIRONMENT")
    # OpenTelemetry traces: with an endpoint, spans go there over OTLP/HTTP.
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, alias="OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    otel_service_name: str = Field(default="oncallnova", min_length=1, alias="OTEL_SERVICE_NAME")
    # gRPC between the roles of a split installation: the shared secret every role's gRPC
    # server requires of its callers (a role that serves or calls gRPC will not start
    # without it), and the `host:port` where the incidents and oncall roles listen.
    internal_token: str | None = Field(default=None, alias="ONCALLNOVA_INTERNAL_TOKEN")
    incidents_grpc_addr: str = Field(default="127.0.0.1:50052", alias="INCIDENTS_GRPC_ADDR")
    oncall_grpc_addr: str = Field(default="127.0.0.1:50053", alias="ONCALL_GRPC_ADDR")
    # MCP, for AI assistants: `serve` answers at /mcp with MCP_ENABLED, and offers the
    # write tools (acknowledge, resolve, ...) only with MCP_WRITE_TOOLS. `oncallnova mcp`
    # (stdio) calls the OnCallNova at ONCALLNOVA_URL with the API token ONCALLNOVA_TOKEN.
    mcp_enabled: bool = Field(default=False, alias="MCP_ENABLED")
    mcp_write_tools: bool = Field(default=False, alias="MCP_WRITE_TOOLS")
    api_url: str = Field(default="http://127.0.0.1:8080", min_length=1, alias="ONCALLNOVA_URL")
    api_token: str | None = Field(default=None, alias="ONCALLNOVA_TOKEN")

    @field_validator("sqlite_synchronous")
    @classmethod
    def _known_sync_mode(cls, value: str) -> str:
        mode = value.upper()
        if mode not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError("SQLITE_SYNCHRONOUS must be OFF, NORMAL, FULL or EXTRA")
        return mode

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                try:
                    ipaddress.ip_network(part.strip(), strict=False)
                except ValueError as exc:
                    raise ValueError(
                        "TRUSTED_PROXIES must be IP addresses or networks separated by commas"
                    ) from exc
        return value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        fmt = value.strip().lower()
        if fmt not in {"json", "text"}:
            raise ValueError("LOG_FORMAT must be json or text")
        return fmt

    @field_validator("loki_url")
    @classmethod
    def _empty_loki_is_none(cls, value: str | None) -> str | None:
        return (value.strip() or None) if value else None

    @field_validator("otel_exporter_otlp_endpoint")
    @classmethod
    def _empty_endpoint_is_none(cls, value: str | None) -> str | None:
        return (value.strip() or None) if value else None

    @field_validator("metrics_token")
    @classmethod
    def _empty_token_is_none(cls, value: str | None) -> str | None:
        return (value.strip() or None) if value else None

    @field_validator("internal_token")
    @classmethod
    def _strong_internal_token(cls, value: str | None) -> str | None:
        value = (value.strip() or None) if value else None
        if value and len(value.encode()) < 16:
            raise ValueError("ONCALLNOVA_INTERNAL_TOKEN must be at least 16 bytes long")
        return value

    @field_validator("incidents_grpc_addr", "oncall_grpc_addr")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, _, port = value.strip().rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("a gRPC address must be host:port, e.g. 127.0.0.1:50052")
        return value.strip()

    @field_validator("jwt_secret")
    @classmethod
    def _strong_secret(cls, value: str | None) -> str | None:
        if value and len(value.encode()) < 32:
            raise ValueError("JWT_SECRET must be at least 32 bytes long")
        return value or None

    @field_validator("notify_retry_delays")
    @classmethod
    def _delays(cls, value: str) -> str:
        try:
            delays = [float(part) for part in value.split(",") if part.strip()]
        except ValueError as exc:
            raise ValueError("NOTIFY_RETRY_DELAYS must be seconds separated by commas") from exc
        if any(d < 0 for d in delays):
            raise ValueError("NOTIFY_RETRY_DELAYS must not be negative")
        return value

    def retry_delays(self) -> list[float]:
        return [float(part) for part in self.notify_retry_delays.split(",") if part.strip()]

    def resolved_database_url(self) -> str:
        """The SQLAlchemy async URL: `postgresql://` and `sqlite://` work as given."""
        url = self.database_url.strip()
        if not url:
            return f"sqlite+aiosqlite:///{(self.data_dir / 'oncallnova.db').as_posix()}"
        for plain, driver in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        return url
