"""Tortoise's asyncpg client, without a round trip to reset each connection it hands back.

asyncpg resets a connection returning to its pool with a statement of its own (releasing
session advisory locks, closing cursors, UNLISTEN *, RESET ALL), and Tortoise takes a pool
connection for every statement outside a transaction: each read paid two round trips. The
product keeps no session state to reset: its settings are ``SET LOCAL``, its advisory lock is
transaction-scoped and it opens no cursors or listeners. asyncpg still rolls back a transaction
left open on a released connection (its reset of the connection object runs before this one);
only the reset statement is left out. Used as the ``engine`` of PostgreSQL connections
(domain/db.py).
"""

from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient


async def keep_session(_: asyncpg.Connection) -> None:
    """Nothing of the session to reset (see the module's docstring)."""


class PostgresClient(AsyncpgDBClient):
    async def create_pool(self, **kwargs: Any) -> asyncpg.Pool:
        return await asyncpg.create_pool(None, reset=keep_session, **kwargs)


client_class = PostgresClient
