"""The app as the processes run it: the API with the job queues of the workers wired in."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from api.app import create_app as create_api_app
from domain.settings import Settings, get_settings
from workers.dispatch import queued_deliveries
from workers.goal_refresh import queued_jobs


@asynccontextmanager
async def queued_work(settings: Settings) -> AsyncIterator[None]:
    """While the block runs, the outbox rows and the refreshes that a commit asks for go to Redis
    (when configured) for the workers."""
    async with queued_deliveries(settings.redis_url), queued_jobs(settings.redis_url):
        yield


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[None]:
    """The queued work, after setting aside what start-up built: the modules, the schema and
    the connection pools live as long as the process, so the garbage collector stops walking
    them (``gc.freeze``), and a full collection no longer stalls a request for tens of
    milliseconds."""
    gc.collect()
    gc.freeze()
    async with queued_work(settings):
        yield


def create_app(settings: Settings | None = None, *, manage_db: bool = True) -> Starlette:
    """The Uvicorn factory of `goals serve`; ``manage_db=False`` leaves Tortoise to the caller."""
    settings = settings or get_settings()
    return create_api_app(settings, manage_db=manage_db, while_serving=serving)
