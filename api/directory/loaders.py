"""Batch loads for the directory: one query per kind of object per request (in pieces when
the keys are too many to bind in one statement)."""

from collections import defaultdict
from collections.abc import Sequence

from domain.models import Account, Pipeline, Team, TeamMembership, User
from domain.parameters import in_pieces
from domain.sql import instances_by_id


async def load_users(account_id: int, ids: Sequence[int]) -> list[User | None]:
    return await instances_by_id(User, account_id, ids)


async def load_teams(account_id: int, ids: Sequence[int]) -> list[Team | None]:
    return await instances_by_id(Team, account_id, ids)


async def load_pipelines(account_id: int, ids: Sequence[int]) -> list[Pipeline | None]:
    return await instances_by_id(Pipeline, account_id, ids)


async def load_accounts(account_id: int, ids: Sequence[int]) -> list[Account | None]:
    rows = {a.id: a for a in await Account.filter(id=account_id, id__in=ids)}
    return [rows.get(i) for i in ids]


async def load_team_ids_of_users(account_id: int, user_ids: Sequence[int]) -> list[list[int]]:
    teams: dict[int, list[int]] = defaultdict(list)
    for piece in in_pieces(user_ids):
        for user_id, team_id in await TeamMembership.filter(
            account_id=account_id, user_id__in=piece
        ).values_list("user_id", "team_id"):
            teams[user_id].append(team_id)
    return [sorted(teams[u]) for u in user_ids]


async def load_member_ids_of_teams(account_id: int, team_ids: Sequence[int]) -> list[list[int]]:
    members: dict[int, list[int]] = defaultdict(list)
    for piece in in_pieces(team_ids):
        for team_id, user_id in await TeamMembership.filter(
            account_id=account_id, team_id__in=piece
        ).values_list("team_id", "user_id"):
            members[team_id].append(user_id)
    return [sorted(members[t]) for t in team_ids]
