"""The worker process: arq's Worker, made to ride out a Redis restart.

arq 0.28 lets any Redis error of its polling loop (taking jobs, the health check, the cron)
end ``Worker.main``, so a worker exits the moment Redis goes away and must be restarted from
outside. This one logs the loss, waits with exponential backoff and polls again; redis-py
reconnects on the next command, so the worker carries on once Redis is back. Jobs already
running go on meanwhile (the database does not need Redis); a job whose result cannot be
recorded is run again later, which every job here tolerates. A worker started while Redis is
down waits for it the same way instead of giving up after arq's few connection attempts.
"""

import asyncio
import dataclasses
from typing import Any

import structlog
from arq.connections import RedisSettings, create_pool
from arq.worker import Worker, get_kwargs
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.exceptions import WatchError

from workers.metrics import REDIS_RECONNECTS

log = structlog.get_logger("goals.worker")

# What a lost or restarting Redis raises (a WATCH interrupted by a lost connection included).
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, WatchError, ConnectionError, OSError)
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0


def redis_backoff(failures: int) -> float:
    """Wait after the n-th failure in a row: 0.5 s, 1 s, 2 s... at most 30 s."""
    return min(FIRST_BACKOFF_SECONDS * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)


async def wait_for_redis(event: str, error: BaseException, failures: int) -> None:
    """Logs that Redis is away and waits the backoff of the ``failures``-th failure in a row."""
    delay = redis_backoff(failures)
    log.warning(
        event,
        error=f"{type(error).__name__}: {error}",
        failures=failures,
        retry_in_seconds=delay,
    )
    await asyncio.sleep(delay)


def redis_is_back(event: str, failures: int) -> None:
    log.info(event, failures=failures)
    REDIS_RECONNECTS.inc()


class ReconnectingWorker(Worker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.redis_failures = 0

    async def main(self) -> None:
        if self._pool is None:
            self._pool = await self._first_connection()
        await super().main()

    async def _first_connection(self) -> Any:
        """The worker's Redis pool, waiting with backoff for as long as Redis is away."""
        # Without settings arq's create_pool uses the defaults; so does this.
        once = dataclasses.replace(self.redis_settings or RedisSettings(), conn_retries=0)
        failures = 0
        while True:
            try:
                pool = await create_pool(
                    once,
                    job_deserializer=self.job_deserializer,
                    job_serializer=self.job_serializer,
                    default_queue_name=self.queue_name,
                    expires_extra_ms=self.expires_extra_ms,
                )
            except REDIS_DOWN as error:
                failures += 1
                await wait_for_redis(
                    "redis unreachable at start; trying again later", error, failures
                )
                continue
            if failures:
                redis_is_back("redis reachable", failures)
            return pool

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except REDIS_DOWN as error:
            self.redis_failures += 1
            await wait_for_redis(
                "redis unreachable; polling again later", error, self.redis_failures
            )
            return
        if self.redis_failures:
            redis_is_back("redis reachable again", self.redis_failures)
            self.redis_failures = 0

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        # arq takes a job slot before its Redis round trips and gives it back only on the
        # outcomes it expects; a lost connection would keep the slot for ever. One job at a
        # time, so that a failure is known to have taken exactly one slot.
        for job_id in job_ids:
            try:
                await super().start_jobs([job_id])
            except REDIS_DOWN:
                self._release_sem_dec_counter_on_complete()
                raise

    async def close(self) -> None:
        try:
            await super().close()
        except REDIS_DOWN as error:
            # Stopping while Redis is away: the health check key expires by itself.
            log.warning("redis unreachable while stopping", error=f"{type(error).__name__}")
            if self.on_shutdown:
                await self.on_shutdown(self.ctx)
            if self._pool is not None:
                await self._pool.close(close_connection_pool=True)
                self._pool = None


def run(settings_cls: type, redis_url: str) -> None:
    """Run a worker with the functions, cron jobs and hooks of ``settings_cls`` until it is
    stopped by a signal."""
    settings = {**get_kwargs(settings_cls), "redis_settings": RedisSettings.from_dsn(redis_url)}
    ReconnectingWorker(**settings).run()
