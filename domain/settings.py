"""Settings read from the environment (prefix ``GOALS_``), shared by the API and the workers."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GOALS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite://goals.db",
        description="sqlite://path or postgres://user:pass@host:port/db",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://host:port/db; unset in `goals dev` starts an embedded Redis",
    )
    graphiql: bool = Field(default=True, description="serve GraphiQL on GET /graphql")
    introspection: bool = True
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5000
    max_page_size: int = 100
    max_query_cost: int = Field(default=500_000, ge=1, description="objects an answer may hold")
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1, description="request body size")
    response_cache: bool = Field(
        default=True,
        description="answer repeated GraphQL queries from memory (api/response_cache.py)",
    )
    response_cache_entries: int = Field(default=2000, ge=1, description="answers the cache holds")
    response_cache_bytes: int = Field(
        default=128 * 1024 * 1024, ge=1, description="bytes of answers the cache holds"
    )
    log_json: bool = Field(default=False, description="JSON log lines instead of console lines")
    log_level: str = "INFO"

    refresh_hour: int = Field(default=2, ge=0, le=23, description="local hour of the daily refresh")
    freeze_after_hours: int = Field(default=24, ge=0, description="hours after a milestone's end")
    refresh_statement_timeout_seconds: float = Field(
        default=600, gt=0, description="the database cancels a refresh statement running longer"
    )
    sqlite_busy_timeout_seconds: float = Field(
        default=30, ge=0, description="how long a SQLite write waits for another process's lock"
    )
    live_refresh_minutes: float = Field(
        default=5, ge=0, description="refresh an account whose records changed at most this often"
    )
    worker_metrics_port: int | None = Field(
        default=None, ge=0, le=65535, description="a worker serves Prometheus metrics on this port"
    )

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "goals@localhost"
    public_url: str = "http://127.0.0.1:8000"
    webhook_allow_private: bool = False
    webhook_timeout_seconds: float = 10.0
    delivery_max_attempts: int = 8


@lru_cache
def get_settings() -> Settings:
    return Settings()
