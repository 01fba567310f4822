"""Batch loads of the objects only `node` and `nodes` look up by id: one query per kind."""

from collections.abc import Sequence

from domain.models import ApiToken, Notification
from domain.sql import instances_by_id


async def load_api_tokens(account_id: int, ids: Sequence[int]) -> list[ApiToken | None]:
    return await instances_by_id(ApiToken, account_id, ids)


async def load_notifications(account_id: int, ids: Sequence[int]) -> list[Notification | None]:
    return await instances_by_id(Notification, account_id, ids)
