"""Hands new outbox rows to arq: one job per row, with a job id that makes a second enqueue of
the same row (the sweep, a repeated commit hook) a no-op while the first is still queued."""

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import structlog
from arq.connections import ArqRedis, RedisSettings, create_pool

from domain.notifications.dispatch import install_dispatcher

log = structlog.get_logger("goals.dispatch")

DELIVER_JOB = "deliver_notification"
ENQUEUE_TIMEOUT_SECONDS = 3.0


def delivery_job_id(notification_id: int) -> str:
    return f"notification:{notification_id}"


async def enqueue_deliveries(redis: ArqRedis, notification_ids: Sequence[int]) -> int:
    """Queue one delivery per row; returns how many were not queued already."""
    queued = 0
    for notification_id in notification_ids:
        job = await redis.enqueue_job(
            DELIVER_JOB, notification_id, _job_id=delivery_job_id(notification_id)
        )
        queued += job is not None
    return queued


def install_worker_dispatcher(ctx: dict[str, Any]) -> None:
    """For a worker's on_startup: jobs that write notifications queue them on its own Redis."""
    redis: ArqRedis = ctx["redis"]

    async def dispatch(notification_ids: Sequence[int]) -> None:
        await enqueue_deliveries(redis, notification_ids)

    install_dispatcher(dispatch)


class ArqConnection:
    """An arq pool made on first use, for a process that queues jobs from its requests. While
    Redis is unreachable it gives up fast (a mutation must not wait for Redis) and tries again
    after ``retry_after``."""

    def __init__(self, redis_url: str, *, retry_after: float = 5.0) -> None:
        self.redis_settings = dataclasses.replace(
            RedisSettings.from_dsn(redis_url), conn_timeout=1, conn_retries=0
        )
        self.retry_after = retry_after
        self._pool: ArqRedis | None = None
        self._failed_at: float | None = None
        self._lock = asyncio.Lock()

    async def _get_pool(self) -> ArqRedis | None:
        async with self._lock:
            if self._pool is not None:
                return self._pool
            failed_at = self._failed_at
            if failed_at is not None and time.monotonic() - failed_at < self.retry_after:
                return None
            try:
                self._pool = await create_pool(self.redis_settings)
            except Exception as error:  # noqa: BLE001 - any failure: leave it to the sweep
                self._failed_at = time.monotonic()
                log.warning("redis unreachable; nothing queued for now", error=str(error))
                return None
            self._failed_at = None
            return self._pool

    async def send(self, enqueue: Callable[[ArqRedis], Awaitable[object]], what: str) -> None:
        """Run ``enqueue`` on the pool; on any failure log that ``what`` was not queued. The
        timeout covers connecting too: a Redis that accepts connections and never answers
        would otherwise hold the caller forever."""
        try:
            async with asyncio.timeout(ENQUEUE_TIMEOUT_SECONDS):
                pool = await self._get_pool()
                if pool is None:
                    return
                await enqueue(pool)
        except Exception as error:  # noqa: BLE001
            self._failed_at = time.monotonic()
            await self.close()
            log.warning(f"{what} not queued", error=repr(error))

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.aclose()


class ArqDispatcher(ArqConnection):
    """The API's dispatcher; while Redis is unreachable the rows stay PENDING for the sweep."""

    async def __call__(self, notification_ids: Sequence[int]) -> None:
        await self.send(
            lambda pool: enqueue_deliveries(pool, notification_ids),
            "notifications (the sweep will deliver them)",
        )


@asynccontextmanager
async def queued_deliveries(redis_url: str | None) -> AsyncIterator[None]:
    """While the block runs, new outbox rows are queued on Redis as soon as their transaction
    commits (the API, and the commands that write notifications: `goals refresh`, `goals
    seed-demo`). Without Redis they wait in the outbox for a worker's sweep."""
    if not redis_url:
        yield
        return
    dispatcher = ArqDispatcher(redis_url)
    previous = install_dispatcher(dispatcher)
    try:
        yield
    finally:
        install_dispatcher(previous)
        await dispatcher.close()
