"""A refresh that finds milestones and goals final tells their contributors, once, in the app
and by email."""

from datetime import UTC, datetime

from domain.enums import EngagementKind
from domain.models import Engagement
from domain.progress import refresh_account
from tests.helpers import make_tenant, op
from tests.notification_helpers import create_goal
from tests.workers.notification_support import (
    Inbox,
    delivery_settings,
    run_workers,
)

NAME = "Call more customers"
# Well after the first quarter of 2026 and the 24 hours that freeze its milestones.
AFTER_THE_END = datetime(2026, 4, 10, 12, tzinfo=UTC)


async def test_final_outcomes_reach_the_contributor_once(
    client, redis_url, dispatcher, smtp_inbox: Inbox
):
    tenant = await make_tenant()
    ana = await tenant.add_user("ana")
    await create_goal(
        client,
        tenant.admin_token,
        user_ids=[ana.id],
        notify=["MILESTONE_ACHIEVED", "MILESTONE_MISSED", "GOAL_COMPLETED"],
    )
    # Calls: 12 in January (target 10), 5 in February (20), 30 in March (30).
    calls = [(1, 12), (2, 5), (3, 30)]
    await Engagement.bulk_create(
        [
            Engagement(
                account=tenant.account,
                external_id=f"call-{month}-{n}",
                kind=EngagementKind.CALL,
                owner=ana,
                occurred_at=datetime(2026, month, 10, 9, n % 60, tzinfo=UTC),
            )
            for month, count in calls
            for n in range(count)
        ]
    )

    await refresh_account(tenant.account.id, now=AFTER_THE_END)
    await refresh_account(tenant.account.id, now=AFTER_THE_END)
    await run_workers(
        redis_url, delivery_settings(smtp_host="127.0.0.1", smtp_port=smtp_inbox.port)
    )

    data = await op(client, tenant.tokens["ana"], "MyNotifications", {"first": 10})
    messages = sorted(e["node"]["message"] for e in data["viewer"]["notifications"]["edges"])
    assert messages == sorted(
        [
            f"Milestone 1 (2026-01-01 to 2026-01-31) of “{NAME}” was exceeded: "
            "12 against a target of 10.",
            f"Milestone 2 (2026-02-01 to 2026-02-28) of “{NAME}” was missed: "
            "5 against a target of 20.",
            f"Milestone 3 (2026-03-01 to 2026-03-31) of “{NAME}” was achieved: "
            "30 against a target of 30.",
            f"The goal “{NAME}” ended missed: 47 against a target of 60.",
        ]
    )
    subjects = sorted(str(m["Subject"]) for m in smtp_inbox.messages)
    assert subjects == [
        f"Goal missed: {NAME}",
        f"Milestone achieved: {NAME}",
        f"Milestone exceeded: {NAME}",
        f"Milestone missed: {NAME}",
    ]
