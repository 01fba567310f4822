"""PostgreSQL connections go back to the pool without a reset statement, and still without a
transaction or a setting left over from whoever used them."""

import asyncio
import os

import asyncpg
import pytest
from tortoise import connections

from domain.postgres_client import PostgresClient


async def all_connections(pool: asyncpg.Pool) -> list[asyncpg.Connection]:
    return [await pool.acquire() for _ in range(pool.get_max_size())]


async def test_a_connection_comes_back_without_the_last_users_transaction(db) -> None:
    if db != "postgres":
        pytest.skip("the connection pool is PostgreSQL's")
    client = connections.get("default")
    assert isinstance(client, PostgresClient)
    pool = client._pool

    held = await all_connections(pool)
    for raw in held:
        await raw.execute("SELECT 'last words'")
    pids = [raw.get_server_pid() for raw in held]
    await asyncio.gather(*(pool.release(raw) for raw in held))
    # Released without a statement of the pool's own: each one's last query is its user's.
    observer = await asyncpg.connect(os.environ["GOALS_TEST_POSTGRES_URL"])
    try:
        last = await observer.fetch(
            "SELECT query FROM pg_stat_activity WHERE pid = ANY($1::int[])", pids
        )
    finally:
        await observer.close()
    assert [row["query"] for row in last] == ["SELECT 'last words'"] * len(pids)

    # A user who leaves a transaction open, with a local setting, on every connection.
    held = await all_connections(pool)
    for raw in held:
        await raw.execute("BEGIN; SET LOCAL statement_timeout = 1234")
    await asyncio.gather(*(pool.release(raw) for raw in held))
    taken = await all_connections(pool)
    try:
        for raw in taken:
            assert not raw.is_in_transaction()
            assert await raw.fetchval("SHOW statement_timeout") == "0"
    finally:
        await asyncio.gather(*(pool.release(raw) for raw in taken))
