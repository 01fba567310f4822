"""Helpers for notification tests: goals created through the API, outbox rows read back."""

from collections.abc import Sequence
from typing import Any

import httpx

from api.ids import from_global_id, to_global_id
from domain.enums import Channel
from domain.models import Notification
from tests.helpers import op

ALL_KINDS = [
    "GOAL_ASSIGNED",
    "TARGETS_CHANGED",
    "MILESTONE_ACHIEVED",
    "MILESTONE_MISSED",
    "GOAL_COMPLETED",
]


async def create_goal(
    client: httpx.AsyncClient,
    token: str,
    *,
    name: str = "Call more customers",
    user_ids: Sequence[int] = (),
    team_ids: Sequence[int] = (),
    notify: list[str] | None = None,
    targets: list[str] | None = None,
) -> dict[str, Any]:
    """A quarter of monthly CALLS_LOGGED milestones (Jan, Feb, Mar 2026) through createGoal."""
    contributors = [
        {"userId": to_global_id("User", u), "targets": targets or ["10", "20", "30"]}
        for u in user_ids
    ] + [
        {"teamId": to_global_id("Team", t), "targets": targets or ["10", "20", "30"]}
        for t in team_ids
    ]
    data = await op(
        client,
        token,
        "CreateGoal",
        {
            "input": {
                "name": name,
                "category": "SALES",
                "type": "CALLS_LOGGED",
                "startDate": "2026-01-01",
                "endDate": "2026-03-31",
                "milestonePeriod": "MONTHLY",
                "notify": ALL_KINDS if notify is None else notify,
                "contributors": contributors,
            }
        },
    )
    payload = data["createGoal"]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["goal"]


def pk(global_id: str, type_name: str) -> int:
    value = from_global_id(global_id, type_name)
    assert value is not None
    return value


async def rows_of(user_id: int, channel: Channel | None = None) -> list[Notification]:
    rows = Notification.filter(recipient_id=user_id).order_by("id")
    if channel is not None:
        rows = rows.filter(channel=channel)
    return list(await rows)
