"""One SQLite file shared by the processes of a small deployment: the API, two workers and
`goals refresh`, all writing at the same time."""

import asyncio
import concurrent.futures
import pathlib
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tortoise import Tortoise
from tortoise.exceptions import TransactionManagementError
from tortoise.transactions import in_transaction

from domain.db import close_db, init_db
from domain.models import Account
from domain.settings import get_settings
from tests.e2e.conftest import Goals, free_port, wait_until_ready
from tests.helpers import contract_operation

WRITES = 40
REFRESHES = 4


def _post(base_url: str, token: str, name: str, variables: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{base_url}/graphql",
        json={"query": contract_operation(name), "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def _tickets(batch: int, owners: list[str], count: int = 100) -> list[dict[str, Any]]:
    start = datetime.now(UTC) - timedelta(days=60)
    return [
        {
            "externalId": f"shared-{batch}-{n}",
            "pipelineExternalId": "demo-support",
            "ownerExternalId": owners[n % len(owners)],
            "createdAt": (start + timedelta(hours=n)).isoformat(),
            "closedAt": (start + timedelta(hours=n + 5)).isoformat(),
        }
        for n in range(count)
    ]


def _goal(number: int, user_ids: list[str], pipeline_id: str) -> dict[str, Any]:
    year = datetime.now(UTC).year
    return {
        "input": {
            "name": f"Shared file goal {number}",
            "category": "SERVICE",
            "type": "CLOSED_TICKETS",
            "startDate": f"{year}-01-01",
            "endDate": f"{year}-12-31",
            "milestonePeriod": "WEEKLY",
            "pipelineIds": [pipeline_id],
            "notify": ["GOAL_ASSIGNED"],
            "contributors": [{"userId": user_id} for user_id in user_ids],
        }
    }


def _states(path: pathlib.Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return dict(conn.execute("SELECT state, count(*) FROM notification GROUP BY state"))


@pytest.fixture
def database_url(tmp_path: pathlib.Path) -> str:
    """SQLite, whatever database the rest of the suite runs on."""
    return f"sqlite://{tmp_path / 'shared.db'}"


def test_api_workers_and_refresh_write_one_sqlite_file(goals: Goals, database_url: str) -> None:
    database = pathlib.Path(database_url.removeprefix("sqlite://"))
    assert goals.run("migrate").returncode == 0
    seeded = goals.run("seed-demo")
    assert seeded.returncode == 0, seeded.stderr
    token = seeded.stdout.strip().splitlines()[-1]

    port = free_port()
    server = goals.start("serve", "serve", "--port", str(port))
    workers = [goals.start(f"worker{n}", "worker") for n in (1, 2)]
    base_url = f"http://127.0.0.1:{port}"
    wait_until_ready(base_url, server)
    directory = _post(base_url, token, "Directory", {}).json()["data"]
    users = [edge["node"] for edge in directory["users"]["edges"] if edge["node"]["seat"] == "PAID"]
    owners = [u["externalId"] for u in users if u["externalId"]]
    support = next(p["id"] for p in directory["pipelines"] if p["externalId"] == "demo-support")

    def write(number: int) -> httpx.Response:
        if number % 2:
            return _post(base_url, token, "UpsertTickets", {"items": _tickets(number, owners)})
        contributors = [users[(number + k) % len(users)]["id"] for k in range(3)]
        return _post(base_url, token, "CreateGoal", _goal(number, contributors, support))

    def refresh_four_times() -> list[Any]:
        return [goals.run("refresh", timeout=120) for _ in range(REFRESHES)]

    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        refreshing = pool.submit(refresh_four_times)
        responses = list(pool.map(write, range(WRITES)))
        refreshes = refreshing.result()

    for response in responses:
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), body
        payload = next(iter(body["data"].values()))
        assert payload["userErrors"] == [], payload
    for refreshed in refreshes:
        assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
        assert "milestones computed" in refreshed.stdout
    goals_listed = _post(base_url, token, "ManageGoals", {"first": 100}).json()["data"]["goals"]
    assert sum(g["node"]["name"].startswith("Shared file goal") for g in goals_listed["edges"]) == (
        WRITES // 2
    )

    # The workers deliver every assignment the new goals announced.
    deadline = time.monotonic() + 60
    while (states := _states(database)).get("PENDING") or states.get("SENDING"):
        assert all(w.poll() is None for w in workers), goals.log("worker1") + goals.log("worker2")
        assert time.monotonic() < deadline, states
        time.sleep(0.5)
    assert set(states) == {"SENT"}, states
    delivered = goals.log("worker1") + goals.log("worker2")
    assert "deliver_notification" in delivered

    logs = [goals.log("serve"), delivered, *(r.stdout + r.stderr for r in refreshes)]
    assert not any("database is locked" in log for log in logs)
    assert not any("Traceback" in log for log in logs), "\n".join(logs)


async def test_a_transaction_takes_the_write_lock_first_and_waits_its_turn(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOALS_SQLITE_BUSY_TIMEOUT_SECONDS", "0.3")
    get_settings.cache_clear()
    path = tmp_path / "busy.db"
    await init_db(f"sqlite://{path}")
    # Another process's connection to the same file.
    other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    try:
        await Tortoise.generate_schemas()
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)

        # Our transaction holds the write lock from BEGIN, before it writes anything.
        async with in_transaction():
            await Account.all().count()
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")

        # While the other process writes, ours waits the busy timeout, then gives up cleanly.
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with pytest.raises(TransactionManagementError, match="locked"):
            async with in_transaction():
                await Account.create(name="Blocked")
        assert 0.25 <= time.monotonic() - started < 5
        other.execute("ROLLBACK")

        # Nothing of the failed attempt holds this process back.
        async def write_after() -> None:
            async with in_transaction():
                await Account.create(name="After")

        await asyncio.wait_for(write_after(), timeout=10)
        assert await Account.all().values_list("name", flat=True) == ["After"]
    finally:
        other.close()
        await close_db()
        monkeypatch.delenv("GOALS_SQLITE_BUSY_TIMEOUT_SECONDS")
        get_settings.cache_clear()
