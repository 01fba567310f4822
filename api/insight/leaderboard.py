"""A goal's leaderboard: its contributor goals in the viewer's reach, best percent first."""

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.common.numbers import percent_number, plain_decimal
from api.context import Info
from api.directory import loaders as directory_loaders
from domain import models as m
from domain.goals.queries import contributor_goals_in_reach
from domain.leaderboard import Standing, ranked
from domain.parameters import in_pieces
from domain.permissions import Reach

if TYPE_CHECKING:
    from api.goals.types import ContributorGoal

LeaderboardKey = tuple[int, Reach]
MAX_LEADERBOARD = 100

LEADERBOARD_DESCRIPTION = (
    "The goal's contributor goals that the viewer's reach covers (everyone's for ALL and "
    "admins), by percent descending (a null percent last), then by contributor name, with "
    "competition ranks (1, 1, 3). `first`: how many to return, 0 to 100 (default 20); ranks "
    "count every contributor goal shown to the viewer, listed or not."
)


@strawberry.type(description="One contributor goal's place on its goal's leaderboard.")
class LeaderboardEntry:
    rank: int = strawberry.field(
        description="1 + the number of contributor goals with a higher percent; equal percents "
        "share a rank (1, 1, 3)."
    )
    row: strawberry.Private[m.ContributorGoal]

    @strawberry.field(description="The contributor goal's value over the whole duration.")
    def value(self) -> Decimal | None:
        return plain_decimal(self.row.value)

    @strawberry.field(description="The contributor goal's target over the whole duration.")
    def target(self) -> Decimal:
        return plain_decimal(self.row.target) or Decimal(0)

    @strawberry.field(
        description="Percent of target, rounded half-up to two decimals; null on a zero divisor "
        "or before the first refresh (ranked last)."
    )
    def percent(self) -> float | None:
        return percent_number(self.row.percent)

    @strawberry.field(description="The contributor goal ranked here.")
    def contributor_goal(
        self,
    ) -> Annotated["ContributorGoal", strawberry.lazy("api.goals.types")]:
        from api.goals.types import ContributorGoal

        return ContributorGoal(row=self.row)


def prime_contributors(info: Info, rows: Sequence[m.ContributorGoal]) -> None:
    """The users and teams read with the leaderboard, so that naming them costs no query."""
    users = info.context.loader(directory_loaders.load_users)
    teams = info.context.loader(directory_loaders.load_teams)
    for row in rows:
        if row.user_id is not None:
            users.prime(row.user_id, row.user)
        elif row.team_id is not None:
            teams.prime(row.team_id, row.team)


def _contributor_name(row: m.ContributorGoal) -> str:
    contributor = row.user if row.user_id is not None else row.team
    return contributor.name if contributor is not None else ""


async def load_leaderboards(
    account_id: int, keys: Sequence[LeaderboardKey]
) -> list[list[Standing[m.ContributorGoal]]]:
    """Keys are (goal id, the viewer's reach): each goal's contributor goals in that reach,
    ranked; one query per page of goals."""
    goal_ids_by_reach: dict[Reach, set[int]] = defaultdict(set)
    for goal_id, reach in keys:
        goal_ids_by_reach[reach].add(goal_id)
    found: dict[LeaderboardKey, list[m.ContributorGoal]] = defaultdict(list)
    for reach, goal_ids in goal_ids_by_reach.items():
        for piece in in_pieces(sorted(goal_ids)):
            rows = await (
                contributor_goals_in_reach(account_id, reach)
                .filter(goal_id__in=piece)
                .select_related("user", "team")
            )
            for row in rows:
                found[(row.goal_id, reach)].append(row)
    return [
        ranked(
            found[key],
            percent=lambda row: row.percent,
            name=_contributor_name,
            tiebreak=lambda row: row.id,
        )
        for key in keys
    ]
