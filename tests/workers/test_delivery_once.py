"""Exactly once: two workers on one backlog, duplicate jobs, a delivery run twice, a claim whose
worker died."""

import asyncio
from collections import Counter
from datetime import timedelta

from tortoise.timezone import now as utc_now

from domain.enums import Channel, DeliveryState
from domain.models import Notification
from tests.helpers import make_tenant
from tests.notification_helpers import create_goal
from tests.workers.notification_support import (
    Inbox,
    Receiver,
    arq_pool,
    delivery_settings,
    run_workers,
    worker_ctx,
)
from workers.delivery import deliver_notification, sweep_notifications
from workers.dispatch import DELIVER_JOB

MEMBERS = 15


async def _team_goal(client, webhook_url: str | None = None) -> list[str]:
    """A goal for a team of MEMBERS people; returns their addresses."""
    tenant = await make_tenant()
    if webhook_url:
        tenant.account.webhook_url = webhook_url
        tenant.account.webhook_secret = "secret"
        await tenant.account.save()
    names = [f"member{n:02d}" for n in range(MEMBERS)]
    for name in names:
        await tenant.add_user(name)
    await tenant.add_team("crew", names)
    await create_goal(
        client, tenant.admin_token, team_ids=[tenant.teams["crew"].id], notify=["GOAL_ASSIGNED"]
    )
    return [f"{n.title()} <{n}@acme.test>" for n in names]


async def test_two_workers_draining_one_backlog_deliver_each_message_once(
    client, redis_url, dispatcher, smtp_inbox: Inbox, webhook_receiver: Receiver
):
    addresses = await _team_goal(client, webhook_receiver.url)
    rows = list(await Notification.filter(channel__in=[Channel.EMAIL, Channel.WEBHOOK]))
    assert len(rows) == 2 * MEMBERS
    # Each row queued twice, side by side, under two job ids (as a duplicate from elsewhere
    # would be), so that both workers reach the same row at the same time.
    pool = await arq_pool(redis_url)
    try:
        await pool.flushdb()
        for row in rows:
            await pool.enqueue_job(DELIVER_JOB, row.id, _job_id=f"notification:{row.id}")
            await pool.enqueue_job(DELIVER_JOB, row.id, _job_id=f"duplicate:{row.id}")
    finally:
        await pool.aclose()

    settings = delivery_settings(smtp_host="127.0.0.1", smtp_port=smtp_inbox.port)
    await run_workers(redis_url, settings, count=2)

    assert smtp_inbox.to() == sorted(addresses)
    deliveries = Counter(r.headers["x-goals-delivery"] for r in webhook_receiver.requests)
    assert len(deliveries) == MEMBERS and set(deliveries.values()) == {1}
    states = await Notification.filter(channel__in=[Channel.EMAIL, Channel.WEBHOOK]).values_list(
        "state", "attempts"
    )
    assert set(states) == {(DeliveryState.SENT, 1)}


async def test_a_delivery_run_twice_at_once_sends_once(client, redis_url, smtp_inbox: Inbox):
    await _team_goal(client)
    settings = delivery_settings(smtp_host="127.0.0.1", smtp_port=smtp_inbox.port)
    row = await Notification.filter(channel=Channel.EMAIL).first()
    assert row is not None
    results = await asyncio.gather(
        deliver_notification(worker_ctx(settings), row.id),
        deliver_notification(worker_ctx(settings), row.id),
    )
    assert sorted(results) == ["not pending", "sent"]
    assert len(smtp_inbox.messages) == 1
    assert await deliver_notification(worker_ctx(settings), row.id) == "not pending"
    assert len(smtp_inbox.messages) == 1


async def test_the_sweep_takes_back_a_claim_whose_worker_died(client, redis_url, smtp_inbox: Inbox):
    await _team_goal(client)
    rows = list(await Notification.filter(channel=Channel.EMAIL).order_by("id"))
    long_ago = utc_now() - timedelta(minutes=10)
    stale, fresh = rows[0], rows[1]
    await Notification.filter(id__in=[r.id for r in rows]).update(created_at=long_ago)
    await Notification.filter(id__not_in=[stale.id, fresh.id], channel=Channel.EMAIL).update(
        state=DeliveryState.SENT
    )
    await Notification.filter(id=stale.id).update(
        state=DeliveryState.SENDING, attempts=1, claimed_at=long_ago
    )
    await Notification.filter(id=fresh.id).update(
        state=DeliveryState.SENDING, attempts=1, claimed_at=utc_now() - timedelta(seconds=20)
    )

    pool = await arq_pool(redis_url)
    try:
        assert await sweep_notifications({"redis": pool}) == 1
    finally:
        await pool.aclose()
    await run_workers(
        redis_url, delivery_settings(smtp_host="127.0.0.1", smtp_port=smtp_inbox.port)
    )

    assert len(smtp_inbox.messages) == 1
    assert stale.recipient_id != fresh.recipient_id
    await stale.refresh_from_db()
    await fresh.refresh_from_db()
    assert (stale.state, stale.attempts) == (DeliveryState.SENT, 2)
    # A claim still within its job's time is left to its worker.
    assert fresh.state == DeliveryState.SENDING
