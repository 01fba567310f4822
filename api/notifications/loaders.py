"""Batch loads for notifications: the goals they are about, as far as the viewer may see them."""

from collections import defaultdict
from collections.abc import Sequence

from domain.goals.queries import visible_goals
from domain.models import Goal, User
from domain.permissions import Reach

# A goal id with the viewer and their reach: visibility is the viewer's, not the recipient's.
VisibleGoalKey = tuple[int, User, Reach]


async def load_visible_goals(account_id: int, keys: Sequence[VisibleGoalKey]) -> list[Goal | None]:
    """One query per viewer (one per request in practice), whatever the page size."""
    ids_by_viewer: dict[tuple[User, Reach], set[int]] = defaultdict(set)
    for goal_id, viewer, reach in keys:
        ids_by_viewer[(viewer, reach)].add(goal_id)
    found: dict[tuple[int, int], Goal] = {}
    for (viewer, reach), ids in ids_by_viewer.items():
        for goal in await visible_goals(account_id, viewer, reach).filter(id__in=sorted(ids)):
            found[(goal.id, viewer.id)] = goal
    return [found.get((goal_id, viewer.id)) for goal_id, viewer, _ in keys]
