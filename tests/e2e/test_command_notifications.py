"""Commands that write notifications (`goals seed-demo`, `goals refresh`) queue their delivery on
Redis at once, as the API does, instead of leaving it to the worker's sweep a minute later."""

from datetime import date

import redis

from tests.e2e.conftest import (
    Goals,
    create_calls_goal,
    free_port,
    pending_notifications,
    post,
    wait_until_ready,
)
from workers.dispatch import delivery_job_id


def _queued(redis_url: str) -> set[str]:
    client = redis.Redis.from_url(redis_url)
    try:
        return {job_id.decode() for job_id in client.zrange("arq:queue", 0, -1)}
    finally:
        client.close()


def test_seed_demo_and_refresh_queue_their_notifications(
    goals: Goals, database_url: str, redis_url: str
) -> None:
    # No worker runs: whatever is queued was queued by the commands themselves.
    assert goals.run("migrate").returncode == 0
    seeded = goals.run("seed-demo")
    assert seeded.returncode == 0, seeded.stderr
    token = seeded.stdout.strip().splitlines()[-1]
    demo = pending_notifications(database_url)
    assert demo, "the demo's goals announce their assignments by email"
    assert {delivery_job_id(i) for i in demo} <= _queued(redis_url)

    # A goal of last year: the next refresh makes it final and announces the outcomes.
    port = free_port()
    server = goals.start("serve", "serve", "--port", str(port))
    base_url = f"http://127.0.0.1:{port}"
    wait_until_ready(base_url, server)
    viewer = post(base_url, token, "Viewer")["viewer"]
    create_calls_goal(
        base_url,
        token,
        "Last year's calls",
        year=date.today().year - 1,
        period="QUARTERLY",
        notify=["MILESTONE_ACHIEVED", "MILESTONE_MISSED", "GOAL_COMPLETED"],
        contributor={"userId": viewer["id"], "targets": [10, 10, 10, 10]},
    )
    before = pending_notifications(database_url)

    refreshed = goals.run("refresh")
    assert refreshed.returncode == 0, refreshed.stderr
    assert "4 became final" in refreshed.stdout
    outcomes = pending_notifications(database_url) - before
    assert len(outcomes) == 5  # four quarters and the goal, by email
    assert {delivery_job_id(i) for i in outcomes} <= _queued(redis_url)
