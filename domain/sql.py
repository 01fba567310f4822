"""Raw SQL that runs on both backends: numbered parameters, values in each backend's own form,
and bulk writes (PostgreSQL: one statement over arrays; SQLite: one prepared statement run for
every row). Table and column names come from code, never from users."""

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

FOUR_PLACES = Decimal("0.0001")


def connection() -> BaseDBAsyncClient:
    """The default connection, or the open transaction on it."""
    return connections.get("default")


def is_postgres(conn: BaseDBAsyncClient) -> bool:
    return conn.capabilities.dialect == "postgres"


def to_decimal(value: Any) -> Decimal | None:
    """A numeric column as read back: asyncpg gives Decimal, SQLite the stored text."""
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def to_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


class Params:
    """Collects parameters and hands out placeholders: ``$n`` for PostgreSQL, ``?n`` for SQLite.

    Numbered placeholders let a statement be assembled in any order.
    """

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.values: list[Any] = []

    def __call__(self, value: Any, pg_type: str | None = None) -> str:
        self.values.append(value)
        number = len(self.values)
        if not self.postgres:
            return f"?{number}"
        return f"${number}::{pg_type}" if pg_type else f"${number}"

    def day(self, value: date) -> str:
        return self(value, "date") if self.postgres else self(value.isoformat())

    def instant(self, value: datetime) -> str:
        return self(value, "timestamptz") if self.postgres else self(sqlite_instant(value))

    def ids(self, values: Sequence[int]) -> str:
        """A list for ``column IN (...)`` as one parameter, however long: an array for
        PostgreSQL, a JSON array for SQLite."""
        if self.postgres:
            return f"SELECT unnest({self(list(values), 'bigint[]')})"
        return f"SELECT value FROM json_each({self(json.dumps([int(v) for v in values]))})"


def sqlite_instant(value: datetime) -> str:
    """The text Tortoise stores for a timestamp in SQLite: UTC, ISO 8601 with a space, so
    instants compare correctly as text."""
    return value.astimezone(UTC).isoformat(" ")


def sqlite_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return sqlite_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def quantize4(value: Decimal | None) -> Decimal | None:
    """Values are stored with four decimal places, rounded half-up on both backends."""
    return None if value is None else value.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


async def bulk_update(
    table: str,
    key: tuple[str, str],
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Set ``columns`` of the rows whose ``key`` is each row's first item.

    ``key`` and ``columns`` are (name, PostgreSQL type) pairs; each row is (key, *columns).
    """
    if not rows:
        return
    conn = connection()
    names = [key[0], *(name for name, _ in columns)]
    if is_postgres(conn):
        params = Params(True)
        arrays = ", ".join(
            params([row[i] for row in rows], f"{pg_type}[]")
            for i, (_, pg_type) in enumerate([key, *columns])
        )
        assignments = ", ".join(f'"{name}" = v."{name}"' for name, _ in columns)
        quoted = ", ".join(f'"{n}"' for n in names)
        await conn.execute_query(
            f'UPDATE "{table}" AS t SET {assignments} '
            f"FROM unnest({arrays}) AS v({quoted}) "
            f'WHERE t."{key[0]}" = v."{key[0]}"',
            params.values,
        )
        return
    assignments = ", ".join(f'"{name}" = ?' for name, _ in columns)
    await conn.execute_many(
        f'UPDATE "{table}" SET {assignments} WHERE "{key[0]}" = ?',
        [[sqlite_value(v) for v in (*row[1:], row[0])] for row in rows],
    )


async def bulk_upsert(
    table: str,
    conflict: Sequence[str],
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Insert rows, or update the non-conflict columns of the row already holding the key."""
    if not rows:
        return
    conn = connection()
    names = [name for name, _ in columns]
    quoted = ", ".join(f'"{n}"' for n in names)
    updates = ", ".join(f'"{n}" = excluded."{n}"' for n in names if n not in conflict)
    on_conflict = f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {updates}"
    if is_postgres(conn):
        params = Params(True)
        arrays = ", ".join(
            params([row[i] for row in rows], f"{pg_type}[]")
            for i, (_, pg_type) in enumerate(columns)
        )
        await conn.execute_query(
            f'INSERT INTO "{table}" ({quoted}) SELECT * FROM unnest({arrays}) {on_conflict}',
            params.values,
        )
        return
    placeholders = ", ".join("?" for _ in names)
    await conn.execute_many(
        f'INSERT INTO "{table}" ({quoted}) VALUES ({placeholders}) {on_conflict}',
        [[sqlite_value(v) for v in row] for row in rows],
    )
