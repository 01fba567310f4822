"""The arq worker: `arq workers.settings.WorkerSettings` (or `goals worker`). Each job module
contributes its own FUNCTIONS and CRON_JOBS lists."""

from typing import Any

from arq.connections import RedisSettings
from arq.cron import CronJob
from arq.worker import Function

from domain.db import close_db, init_db
from domain.settings import get_settings
from workers import delivery, goal_refresh, live, refresh
from workers.dispatch import install_worker_dispatcher
from workers.metrics import serve_metrics

FUNCTIONS: list[Function] = [
    *refresh.FUNCTIONS,
    *goal_refresh.FUNCTIONS,
    *live.FUNCTIONS,
    *delivery.FUNCTIONS,
]
CRON_JOBS: list[CronJob] = [*refresh.CRON_JOBS, *live.CRON_JOBS, *delivery.CRON_JOBS]


def redis_settings() -> RedisSettings:
    return RedisSettings.from_dsn(get_settings().redis_url or "redis://127.0.0.1:6379/0")


async def startup(ctx: dict[str, Any]) -> None:
    serve_metrics(get_settings().worker_metrics_port)
    await init_db()
    # Jobs that write notifications (the refresh's outcomes) queue their delivery here.
    install_worker_dispatcher(ctx)


async def shutdown(ctx: dict[str, Any]) -> None:
    await close_db()


class WorkerSettings:
    functions = FUNCTIONS
    cron_jobs = CRON_JOBS
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings()
