"""The processes hand notifications over: the API queues them (and goal refreshes) on Redis
after the commit, and the worker settings run the delivery job and the sweep."""

import httpx

from api.cli.app import create_app
from domain.enums import Channel
from domain.models import Goal, Notification
from domain.notifications.dispatch import install_dispatcher
from domain.settings import Settings
from tests.helpers import make_tenant
from tests.notification_helpers import create_goal
from tests.workers.notification_support import (
    Inbox,
    arq_pool,
    delivery_settings,
    run_workers,
)
from workers.dispatch import delivery_job_id


async def test_the_api_process_queues_new_notifications_on_redis(db, redis_url, smtp_inbox: Inbox):
    app = create_app(Settings(database_url="unused", redis_url=redis_url), manage_db=False)
    tenant = await make_tenant()
    await tenant.add_user("ana")
    previous = install_dispatcher(None)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://goals.test") as http:
                await create_goal(
                    http,
                    tenant.admin_token,
                    user_ids=[tenant.users["ana"].id],
                    notify=["GOAL_ASSIGNED"],
                )
    finally:
        install_dispatcher(previous)

    [row] = await Notification.filter(channel=Channel.EMAIL)
    pool = await arq_pool(redis_url)
    try:
        queued = [job.job_id for job in await pool.queued_jobs()]
    finally:
        await pool.aclose()
    assert [job for job in queued if job.startswith("notification:")] == [delivery_job_id(row.id)]
    # The goal's refresh after its creation went the same way.
    goal = await Goal.get()
    refreshes = [job.rsplit(":", 1)[0] for job in queued if job.startswith("refresh-goal:")]
    assert refreshes == [f"refresh-goal:{goal.id}"]
    await run_workers(
        redis_url, delivery_settings(smtp_host="127.0.0.1", smtp_port=smtp_inbox.port)
    )
    assert smtp_inbox.to() == ["Ana <ana@acme.test>"]
