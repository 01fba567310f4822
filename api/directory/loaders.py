"""Batch loads for the directory: one query per kind of object per request."""

from collections import defaultdict
from collections.abc import Sequence

from domain.models import Account, Pipeline, Team, TeamMembership, User


async def load_users(account_id: int, ids: Sequence[int]) -> list[User | None]:
    rows = {u.id: u for u in await User.filter(account_id=account_id, id__in=ids)}
    return [rows.get(i) for i in ids]


async def load_teams(account_id: int, ids: Sequence[int]) -> list[Team | None]:
    rows = {t.id: t for t in await Team.filter(account_id=account_id, id__in=ids)}
    return [rows.get(i) for i in ids]


async def load_pipelines(account_id: int, ids: Sequence[int]) -> list[Pipeline | None]:
    rows = {p.id: p for p in await Pipeline.filter(account_id=account_id, id__in=ids)}
    return [rows.get(i) for i in ids]


async def load_accounts(account_id: int, ids: Sequence[int]) -> list[Account | None]:
    rows = {a.id: a for a in await Account.filter(id=account_id, id__in=ids)}
    return [rows.get(i) for i in ids]


async def load_team_ids_of_users(account_id: int, user_ids: Sequence[int]) -> list[list[int]]:
    teams: dict[int, list[int]] = defaultdict(list)
    for user_id, team_id in await TeamMembership.filter(
        account_id=account_id, user_id__in=user_ids
    ).values_list("user_id", "team_id"):
        teams[user_id].append(team_id)
    return [sorted(teams[u]) for u in user_ids]


async def load_member_ids_of_teams(account_id: int, team_ids: Sequence[int]) -> list[list[int]]:
    members: dict[int, list[int]] = defaultdict(list)
    for team_id, user_id in await TeamMembership.filter(
        account_id=account_id, team_id__in=team_ids
    ).values_list("team_id", "user_id"):
        members[team_id].append(user_id)
    return [sorted(members[t]) for t in team_ids]
