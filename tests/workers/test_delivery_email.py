"""Email delivery through real Redis, real arq workers and a real SMTP server on loopback."""

import time
from datetime import timedelta

from tortoise.timezone import now as utc_now

from api.ids import to_global_id
from domain.enums import Channel, DeliveryState
from domain.models import Notification
from domain.notifications.dispatch import install_dispatcher
from tests.helpers import gql, make_tenant
from tests.notification_helpers import create_goal, pk
from tests.workers.notification_support import (
    Inbox,
    arq_pool,
    delivery_settings,
    run_workers,
)
from workers.channels import email as email_channel
from workers.delivery import sweep_notifications
from workers.dispatch import ArqDispatcher

NAME = "Call more customers"


async def _tenant():
    tenant = await make_tenant()
    await tenant.add_user("ana")
    await tenant.add_user("bob")
    await tenant.add_team("sales", ["bob"])
    return tenant


def _smtp(inbox: Inbox, **overrides):
    return delivery_settings(smtp_host="127.0.0.1", smtp_port=inbox.port, **overrides)


async def _email_rows() -> list[Notification]:
    return list(await Notification.filter(channel=Channel.EMAIL).order_by("id"))


async def test_new_goal_mails_each_contributor_once(client, redis_url, dispatcher, smtp_inbox):
    tenant = await _tenant()
    goal = await create_goal(
        client,
        tenant.admin_token,
        user_ids=[tenant.users["ana"].id],
        team_ids=[tenant.teams["sales"].id],
        notify=["GOAL_ASSIGNED"],
    )
    await run_workers(redis_url, _smtp(smtp_inbox))

    assert smtp_inbox.to() == ["Ana <ana@acme.test>", "Bob <bob@acme.test>"]
    ana = next(m for m in smtp_inbox.messages if "ana@" in str(m["To"]))
    assert ana["From"] == "goals@example.com"
    assert ana["Subject"] == f"New goal: {NAME}"
    text = ana.get_body(("plain",)).get_content()
    html = ana.get_body(("html",)).get_content()
    link = f"https://goals.example.com/goals/{goal['id']}"
    assert (
        f"You were assigned the goal “{NAME}” (2026-01-01 to 2026-03-31) with a target of 60."
        in text
    )
    assert link in text
    assert f'href="{link}"' in html and "“Call more customers”" in html
    bob = next(m for m in smtp_inbox.messages if "bob@" in str(m["To"]))
    assert "Your team Sales was assigned" in bob.get_body(("plain",)).get_content()

    rows = await _email_rows()
    assert [(r.state, r.attempts, r.last_error) for r in rows] == [
        (DeliveryState.SENT, 1, None),
        (DeliveryState.SENT, 1, None),
    ]
    assert all(r.sent_at is not None for r in rows)
    # Queuing the rows again (the sweep, a repeated hook) sends nothing more.
    await dispatcher([r.id for r in rows])
    await run_workers(redis_url, _smtp(smtp_inbox))
    assert len(smtp_inbox.messages) == 2
    assert pk(goal["id"], "Goal") == rows[0].goal_id


async def test_refused_mail_is_retried_and_arrives_once(client, redis_url, dispatcher, smtp_inbox):
    tenant = await _tenant()
    smtp_inbox.refuse_next = 2
    await create_goal(
        client, tenant.admin_token, user_ids=[tenant.users["ana"].id], notify=["GOAL_ASSIGNED"]
    )
    await run_workers(redis_url, _smtp(smtp_inbox))

    assert smtp_inbox.attempts == 3
    assert smtp_inbox.to() == ["Ana <ana@acme.test>"]
    [row] = await _email_rows()
    assert (row.state, row.attempts, row.last_error) == (DeliveryState.SENT, 3, None)


async def test_mail_refused_every_time_fails_after_the_last_attempt_and_admins_see_it(
    client, redis_url, dispatcher, smtp_inbox
):
    tenant = await _tenant()
    smtp_inbox.refuse_next = 100
    await create_goal(
        client, tenant.admin_token, user_ids=[tenant.users["ana"].id], notify=["GOAL_ASSIGNED"]
    )
    await run_workers(redis_url, _smtp(smtp_inbox, delivery_max_attempts=3))

    assert smtp_inbox.attempts == 3
    assert smtp_inbox.messages == []
    [row] = await _email_rows()
    assert (row.state, row.attempts) == (DeliveryState.FAILED, 3)
    assert "451" in row.last_error

    failed = await gql(
        client,
        tenant.admin_token,
        "{ failedNotifications { totalCount edges { node { id channel attempts lastError } } } }",
    )
    page = failed["data"]["failedNotifications"]
    assert page["totalCount"] == 1
    assert page["edges"][0]["node"]["id"] == to_global_id("Notification", row.id)
    assert page["edges"][0]["node"]["channel"] == "EMAIL"
    assert "451" in page["edges"][0]["node"]["lastError"]


async def test_permanent_refusal_is_not_retried(client, redis_url, dispatcher, smtp_inbox):
    tenant = await _tenant()
    smtp_inbox.refuse_next = 100
    smtp_inbox.refusal = "550 5.1.1 No such mailbox"
    await create_goal(
        client, tenant.admin_token, user_ids=[tenant.users["ana"].id], notify=["GOAL_ASSIGNED"]
    )
    await run_workers(redis_url, _smtp(smtp_inbox))
    assert smtp_inbox.attempts == 1
    [row] = await _email_rows()
    assert (row.state, row.attempts) == (DeliveryState.FAILED, 1)
    assert "550" in row.last_error


async def test_without_an_smtp_host_mail_goes_to_the_log(
    client, redis_url, dispatcher, monkeypatch
):
    logged: list[dict] = []

    class Log:
        def info(self, event: str, **fields: object) -> None:
            logged.append({"event": event, **fields})

    monkeypatch.setattr(email_channel, "log", Log())
    tenant = await _tenant()
    await create_goal(
        client, tenant.admin_token, user_ids=[tenant.users["ana"].id], notify=["GOAL_ASSIGNED"]
    )
    await run_workers(redis_url, delivery_settings(smtp_host=None))

    assert len(logged) == 1
    assert logged[0]["event"] == "email"
    assert logged[0]["to"] == "Ana <ana@acme.test>"
    assert logged[0]["subject"] == f"New goal: {NAME}"
    assert "You were assigned the goal" in logged[0]["text"]
    [row] = await _email_rows()
    assert row.state == DeliveryState.SENT


async def test_mail_arrives_after_redis_comes_back_and_the_sweep_runs(
    client, redis_url, smtp_inbox
):
    tenant = await _tenant()
    unreachable = ArqDispatcher("redis://127.0.0.1:1/5")
    previous = install_dispatcher(unreachable)
    try:
        started = time.monotonic()
        await create_goal(
            client,
            tenant.admin_token,
            user_ids=[tenant.users["ana"].id],
            notify=["GOAL_ASSIGNED"],
        )
        assert time.monotonic() - started < 3
    finally:
        install_dispatcher(previous)
        await unreachable.close()
    [row] = await _email_rows()
    assert row.state == DeliveryState.PENDING

    pool = await arq_pool(redis_url)
    try:
        # Too fresh for the sweep: its job may still be on its way.
        assert await sweep_notifications({"redis": pool}) == 0
        await run_workers(redis_url, _smtp(smtp_inbox))
        assert smtp_inbox.messages == []

        await Notification.filter(id=row.id).update(created_at=utc_now() - timedelta(minutes=2))
        assert await sweep_notifications({"redis": pool}) == 1
        # A second sweep before the workers ran queues nothing twice.
        assert await sweep_notifications({"redis": pool}) == 0
    finally:
        await pool.aclose()
    await run_workers(redis_url, _smtp(smtp_inbox))
    assert smtp_inbox.to() == ["Ana <ana@acme.test>"]
    await row.refresh_from_db()
    assert row.state == DeliveryState.SENT
