"""Raw SQL that runs on both backends: numbered parameters, values in each backend's own form,
and bulk writes (PostgreSQL: one statement over arrays; SQLite: one prepared statement run for
every row). Table and column names come from code, never from users."""

import json
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.queryset import QuerySet

M = TypeVar("M", bound=Model)

FOUR_PLACES = Decimal("0.0001")
# PostgreSQL's SQLSTATE for a statement cancelled (by statement_timeout among others).
QUERY_CANCELED = "57014"
# SQLite calls the progress handler every this many virtual machine steps (well under 1 ms).
SQLITE_PROGRESS_STEPS = 10_000
# SQLite caps bound parameters per statement; IN lists are sent in slices of this size.
CHUNK = 500


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


async def rows_of(sql: str, params: Params) -> list[Any]:
    """The rows of a raw SELECT, each indexable by position and by column name."""
    _, rows = await connection().execute_query(sql, params.values)
    return list(rows)


def columns_as(model: type[Model], alias: str) -> str:
    """Every column of ``model``'s table under ``alias``, each named ``<alias>__<column>``."""
    return ", ".join(f'{alias}."{c}" AS "{alias}__{c}"' for c in sorted(model._meta.db_fields))


def instance_as(model: type[M], row: Any, alias: str) -> M:
    """The instance of ``model`` in the ``columns_as(model, alias)`` columns of ``row``."""
    return model._init_from_db(**{c: row[f"{alias}__{c}"] for c in model._meta.db_fields})


def attach(instance: Model, relation: str, related: Model) -> None:
    """Sets a fetched foreign object as ``select_related`` does, so ``instance.<relation>`` is
    ``related`` without a query."""
    object.__setattr__(instance, f"_{relation}", related)


async def instances_where(
    model: type[M], where: str, params: Params, order_by: str = ""
) -> list[M]:
    """The rows of ``model`` a raw WHERE clause selects, as the instances ``filter()`` returns
    (every column, converted by the model's fields), without the query builder: building a
    statement costs more than running it on the read path's small, frequent loads."""
    meta = model._meta
    columns = ", ".join(f'"{column}"' for column in sorted(meta.db_fields))
    sql = f'SELECT {columns} FROM "{meta.db_table}" WHERE {where}'
    if order_by:
        sql += f" ORDER BY {order_by}"
    return [model._init_from_db(**row) for row in await rows_of(sql, params)]


async def instances_by_id(model: type[M], account_id: int, ids: Sequence[int]) -> list[M | None]:
    """The account's rows of ``model`` with these ids, in their order (None for any other)."""
    params = Params(is_postgres(connection()))
    where = f'"account_id" = {params(account_id)} AND "id" IN ({params.ids(ids)})'
    rows = {row.pk: row for row in await instances_where(model, where, params)}
    return [rows.get(i) for i in ids]


async def ids_grouped(sql: str, params: Params, keys: Sequence[int]) -> list[list[int]]:
    """``sql`` selects (key, id) pairs: each key's ids, in the order of the rows."""
    grouped: dict[int, list[int]] = {}
    for key, item in await rows_of(sql, params):
        grouped.setdefault(key, []).append(item)
    return [grouped.get(key, []) for key in keys]


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


def chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """``items`` in slices of at most ``CHUNK``, for one ``__in`` filter each."""
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


async def column(query: QuerySet[Any], field: str) -> list[Any]:
    """One column of a query's rows."""
    return [row[0] for row in await query.values_list(field)]


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


class StatementTimeout(Exception):
    """The database cancelled a statement that ran past the limit of ``statement_time_limit``."""

    def __init__(self, limit_seconds: float) -> None:
        super().__init__(f"a statement ran past the limit of {limit_seconds:g} s and was cancelled")
        self.limit_seconds = limit_seconds

    def __reduce__(self) -> tuple[type, tuple[float]]:
        return type(self), (self.limit_seconds,)


def _cancelled_by_postgres(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if getattr(seen, "sqlstate", None) == QUERY_CANCELED:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@asynccontextmanager
async def statement_time_limit(seconds: float) -> AsyncIterator[None]:
    """Within a transaction: the database itself stops work that runs past ``seconds``, and the
    block raises StatementTimeout (the transaction around it then rolls back).

    PostgreSQL: ``SET LOCAL statement_timeout``, so each statement gets the limit and the server
    cancels it, whether or not this process is still there to notice. SQLite has no such
    setting: a progress handler interrupts the running statement once ``seconds`` have passed
    since the block began, which bounds all of the block's statements together.
    """
    conn = connection()
    if is_postgres(conn):
        await conn.execute_script(f"SET LOCAL statement_timeout = {max(1, round(seconds * 1000))}")
        try:
            yield
        except Exception as error:
            if _cancelled_by_postgres(error):
                raise StatementTimeout(seconds) from error
            raise
        return
    sqlite = conn._connection  # the transaction's aiosqlite link
    deadline = time.monotonic() + seconds
    interrupted = False

    def past_deadline() -> int:
        nonlocal interrupted
        if time.monotonic() < deadline:
            return 0
        interrupted = True
        return 1

    await sqlite.set_progress_handler(past_deadline, SQLITE_PROGRESS_STEPS)
    try:
        yield
    except Exception as error:
        if interrupted:
            raise StatementTimeout(seconds) from error
        raise
    finally:
        await sqlite.set_progress_handler(None, 0)
