"""Database setup: one Tortoise configuration for the API, the workers, tests and migrations."""

from typing import Any

from tortoise import Tortoise, connections

from domain.settings import get_settings

MODELS = ["domain.models"]


def tortoise_config(database_url: str | None = None) -> dict[str, Any]:
    url = database_url or get_settings().database_url
    return {
        "connections": {"default": url},
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
