"""Tortoise's SQLite client, made to share its file with other processes (the API, workers,
`goals refresh`): every write transaction takes the write lock when it begins.

Tortoise begins transactions with a plain (deferred) ``BEGIN``: such a transaction reads first
and asks for the write lock at its first write. When another process has committed in between,
SQLite cannot upgrade the stale read and fails at once with "database is locked", whatever the
busy timeout. ``BEGIN IMMEDIATE`` asks for the lock up front, where the busy timeout applies:
the transaction waits its turn instead. WAL mode (Tortoise's default) keeps readers out of the
writers' way. Used as the ``engine`` of SQLite connections (domain/db.py).
"""

import sqlite3
from typing import Any

from tortoise.backends.base.client import NestedTransactionContext, TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
    translate_exceptions,
)
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError


class ImmediateTransactionContext(SqliteTransactionContext):
    async def __aenter__(self) -> "ImmediateTransaction":
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            # Tortoise's own context keeps the connection's lock when BEGIN fails (the busy
            # timeout ran out): every later query of this process would wait for ever.
            self._trxlock.release()
            raise
        return self.connection


class ImmediateTransaction(SqliteTransactionWrapper):
    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(ImmediateTransaction(self))

    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class SharedSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return ImmediateTransactionContext(ImmediateTransaction(self), self._lock)

    @translate_exceptions
    async def execute_many(self, query: str, values: list[list[Any]]) -> None:
        # Outside a transaction Tortoise wraps the batch in a deferred BEGIN; take the lock first.
        async with self.acquire_connection() as connection:
            self.log.debug("%s: %s", query, values)
            await connection.execute("BEGIN IMMEDIATE")
            try:
                await connection.executemany(query, values)
            except Exception:
                await connection.rollback()
                raise
            else:
                await connection.commit()


client_class = SharedSqliteClient
