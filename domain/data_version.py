"""The account data version: a number that moves in the transaction of every write that can
change an answer the API gives about the account.

A reader that sees the same version as before sees the same data, whichever process wrote it,
so an answer computed at one version may be given again while the version stands
(api/response_cache.py). Writes go through ``account_write``; code that already runs inside
such a transaction and must move the version again on its own calls ``bump_data_version``.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from domain.models import Account


async def bump_data_version(account_id: int) -> None:
    """Inside a write transaction: the account's answers may have changed. One UPDATE."""
    await Account.filter(id=account_id).update(data_version=F("data_version") + 1)


@asynccontextmanager
async def account_write(account_id: int) -> AsyncIterator[BaseDBAsyncClient]:
    """A transaction that writes the account's data and moves its version as its last
    statement, so the account row stays locked only for the commit. A block that raises rolls
    back both; one that returns early still moves the version (harmless: a cache miss)."""
    async with in_transaction() as connection:
        yield connection
        await bump_data_version(account_id)
