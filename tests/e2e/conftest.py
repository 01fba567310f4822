"""Real processes of the `goals` command: on PostgreSQL and Redis when the test environment names
them (GOALS_TEST_POSTGRES_URL, GOALS_TEST_REDIS_URL), else on SQLite and an embedded Redis."""

import asyncio
import os
import pathlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from api.cli.processes import embedded_redis
from tests.helpers import contract_operation

ROOT = pathlib.Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("GOALS_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("GOALS_TEST_REDIS_URL")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _recreate_database(admin_url: str, name: str, *, create: bool) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def empty_database(tmp_path: pathlib.Path, suffix: str) -> Iterator[str]:
    """An empty database: a sibling of the test PostgreSQL database named with ``suffix``, or a
    SQLite file; dropped afterwards."""
    if not POSTGRES_URL:
        yield f"sqlite://{tmp_path / 'goals.db'}"
        return
    parts = urlsplit(POSTGRES_URL)
    name = f"{parts.path.lstrip('/')}_{suffix}"
    asyncio.run(_recreate_database(POSTGRES_URL, name, create=True))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        asyncio.run(_recreate_database(POSTGRES_URL, name, create=False))


@pytest.fixture
def database_url(tmp_path: pathlib.Path) -> Iterator[str]:
    yield from empty_database(tmp_path, "e2e")


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The test Redis database, emptied, or an embedded Redis."""
    if not REDIS_URL:
        with embedded_redis() as url:
            yield url
        return
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


@dataclass
class Goals:
    """Runs `goals` subcommands as their own processes, with one environment."""

    env: dict[str, str]
    logs: pathlib.Path
    running: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "api.cli", *args]

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, name: str, *args: str, cwd: pathlib.Path = ROOT) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            self.command(*args), cwd=cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.running.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def stop(self, process: subprocess.Popen[bytes], sig: int) -> int:
        process.send_signal(sig)
        try:
            return process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise


@pytest.fixture
def goals(tmp_path: pathlib.Path, database_url: str, redis_url: str) -> Iterator[Goals]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOALS_")}
    env |= {
        "GOALS_DATABASE_URL": database_url,
        "GOALS_REDIS_URL": redis_url,
        "PYTHONPATH": str(ROOT),
    }
    runner = Goals(env=env, logs=tmp_path)
    try:
        yield runner
    finally:
        for process in runner.running:
            if process.poll() is None:
                process.kill()
                process.wait()


def create_calls_goal(
    base_url: str,
    token: str,
    name: str,
    *,
    year: int,
    period: str,
    notify: list[str],
    contributor: dict[str, Any],
) -> None:
    """A CALLS_LOGGED goal over a calendar year, through the API, for one contributor."""
    from tests.helpers import contract_operation

    goal = {
        "name": name,
        "category": "SALES",
        "type": "CALLS_LOGGED",
        "startDate": f"{year}-01-01",
        "endDate": f"{year}-12-31",
        "milestonePeriod": period,
        "notify": notify,
        "contributors": [contributor],
    }
    response = httpx.post(
        f"{base_url}/graphql",
        json={"query": contract_operation("CreateGoal"), "variables": {"input": goal}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    assert body["data"]["createGoal"]["userErrors"] == [], body


def post(base_url: str, token: str, name: str, variables: dict | None = None) -> dict:
    """Run a contract operation against a running server; fails on any error."""
    response = httpx.post(
        f"{base_url}/graphql",
        json={"query": contract_operation(name), "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    return body["data"]


def pending_notifications(database_url: str) -> set[int]:
    """The ids of the outbox rows not delivered yet (read in this process)."""
    from domain.db import close_db, init_db
    from domain.enums import DeliveryState
    from domain.models import Notification

    async def read() -> set[int]:
        await init_db(database_url)
        try:
            pending = Notification.filter(state=DeliveryState.PENDING)
            return set(await pending.values_list("id", flat=True))
        finally:
            await close_db()

    return asyncio.run(read())


def wait_until_ready(base_url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            response = httpx.get(f"{base_url}/readyz", timeout=2)
            if response.status_code == 200:
                return response.json()
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base_url}/readyz did not answer 200 within {timeout} s")
