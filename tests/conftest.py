"""Shared fixtures: a fresh database per test on SQLite, and on PostgreSQL too when
GOALS_TEST_POSTGRES_URL is set; an HTTP client speaking to the ASGI app."""

import os
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest
from tortoise import Tortoise, connections
from tortoise.backends.base.executor import EXECUTOR_CACHE

from api.app import create_app
from domain.db import close_db, init_db, migrate_db
from domain.settings import Settings

POSTGRES_URL = os.environ.get("GOALS_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]

_postgres_ready = False


async def _prepare_postgres() -> None:
    """Once per run: an empty schema brought up by the committed migrations."""
    global _postgres_ready
    if _postgres_ready:
        return
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()
    await migrate_db(POSTGRES_URL)
    _postgres_ready = True


async def _truncate_postgres() -> None:
    conn = connections.get("default")
    tables = [
        row["tablename"]
        for row in await conn.execute_query_dict(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'tortoise_migrations'"
        )
    ]
    await conn.execute_script(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[str]:
    """An initialised, empty database; the value is the backend's name."""
    # Tortoise caches statements per connection name; both backends are called "default".
    EXECUTOR_CACHE.clear()
    if request.param == "postgres":
        await _prepare_postgres()
        await init_db(POSTGRES_URL)
        await _truncate_postgres()
    else:
        await init_db(f"sqlite://{tmp_path / 'test.db'}")
        await Tortoise.generate_schemas()
    try:
        yield request.param
    finally:
        await close_db()


@pytest.fixture
def today() -> date:
    """Today's UTC date, read when the test starts: what the test expects and what the server
    computes agree unless that one test runs across midnight."""
    return datetime.now(UTC).date()


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="unused", redis_url=None)


@pytest.fixture
async def client(db: str, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, manage_db=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://goals.test") as http:
        yield http
