"""Database setup: one Tortoise configuration for the API, the workers, tests and migrations."""

from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url

from domain.settings import get_settings

MODELS = ["domain.models"]


def _connection(url: str) -> str | dict[str, Any]:
    """PostgreSQL as the URL says, through domain/postgres_client.py (no reset statement when a
    connection returns to the pool). SQLite through domain/sqlite_client.py (write transactions
    take the lock up front), in WAL mode, waiting up to ``sqlite_busy_timeout_seconds`` for
    another process's write lock; parameters in the URL (``?busy_timeout=...``) still win."""
    config = expand_db_url(url)
    if not url.startswith("sqlite:"):
        if config["engine"] == "tortoise.backends.asyncpg":
            config["engine"] = "domain.postgres_client"
        return config
    busy_ms = round(get_settings().sqlite_busy_timeout_seconds * 1000)
    credentials = {"busy_timeout": busy_ms, "journal_mode": "WAL", **config["credentials"]}
    return {"engine": "domain.sqlite_client", "credentials": credentials}


def tortoise_config(database_url: str | None = None) -> dict[str, Any]:
    url = database_url or get_settings().database_url
    return {
        "connections": {"default": _connection(url)},
        "apps": {
            "models": {
                "models": MODELS,
                "default_connection": "default",
                "migrations": "domain.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# The `tortoise` command line reads this (see [tool.tortoise] in pyproject.toml).
TORTOISE_ORM = tortoise_config()


async def init_db(database_url: str | None = None) -> None:
    """Initialise Tortoise as the process-wide default.

    The global fallback matters: Uvicorn's lifespan and arq's startup run in other tasks
    (arq even in another loop run) than the requests and jobs that use the connection.
    """
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def close_db() -> None:
    await connections.close_all()
    await Tortoise.close_connections()


async def migrate_db(database_url: str | None = None) -> None:
    """Apply the committed schema migrations (what `goals migrate` runs)."""
    from tortoise.migrations.api import migrate

    await migrate(config=tortoise_config(database_url))
    await Tortoise.close_connections()


def is_postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"
