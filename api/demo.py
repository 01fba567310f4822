"""Demo data for `goals dev` and `goals seed-demo`.

Everything after the account and its admin is created by running the web client's own GraphQL
operations against the schema, as the demo admin, so demo data obeys the rules users' data does.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from domain.account import create_account_with_admin
from domain.models import User

DEMO_ACCOUNT = "Demo"
DEMO_TIMEZONE = "Europe/Berlin"
DEMO_ADMIN_EMAIL = "dana.admin@example.com"

# The operations, verbatim from the client contract (a test keeps them equal).
FRAGMENTS: dict[str, str] = {
    "UserError": """
fragment UserError on UserError {
  field
  code
  message
}
""",
    "ContributorRef": """
fragment ContributorRef on Contributor {
  __typename
  ... on User {
    id
    name
    email
  }
  ... on Team {
    id
    name
  }
}
""",
}

OPERATIONS: dict[str, str] = {
    "Directory": """
query Directory($after: String, $teamsAfter: String) {
  users(first: 100, after: $after) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        id
        externalId
        name
        email
        seat
      }
    }
  }
  teams(first: 100, after: $teamsAfter) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        id
        externalId
        name
        members {
          id
          name
        }
      }
    }
  }
  pipelines {
    id
    externalId
    name
    objectType
  }
}
""",
    "MilestonePreview": """
query MilestonePreview(
  $startDate: Date!
  $endDate: Date!
  $milestonePeriod: MilestonePeriod!
  $alignToFiscalYear: Boolean
) {
  milestonePreview(
    startDate: $startDate
    endDate: $endDate
    milestonePeriod: $milestonePeriod
    alignToFiscalYear: $alignToFiscalYear
  ) {
    index
    startDate
    endDate
  }
}
""",
    "CreateGoal": """
mutation CreateGoal($input: CreateGoalInput!) {
  createGoal(input: $input) {
    goal {
      id
      name
      forecastable
      contributors {
        id
        contributor {
          ...ContributorRef
        }
        milestones {
          index
          startDate
          endDate
          target
          pipelines {
            id
          }
        }
      }
    }
    userErrors {
      ...UserError
    }
  }
}
""",
    "UpsertTickets": """
mutation UpsertTickets($items: [TicketInput!]!, $allowPartial: Boolean) {
  upsertTickets(input: { items: $items, allowPartial: $allowPartial }) {
    upsertedCount
    userErrors {
      ...UserError
    }
  }
}
""",
    "UpsertDeals": """
mutation UpsertDeals($items: [DealInput!]!) {
  upsertDeals(input: { items: $items }) {
    upsertedCount
    userErrors {
      ...UserError
    }
  }
}
""",
    "UpsertEngagements": """
mutation UpsertEngagements($items: [EngagementInput!]!) {
  upsertEngagements(input: { items: $items }) {
    upsertedCount
    userErrors {
      ...UserError
    }
  }
}
""",
    "SyncDirectory": """
mutation SyncDirectory(
  $users: [UserInput!]!
  $teams: [TeamInput!]!
  $pipelines: [PipelineInput!]!
) {
  upsertUsers(input: { items: $users }) {
    upsertedCount
    userErrors {
      ...UserError
    }
  }
  upsertTeams(input: { items: $teams }) {
    upsertedCount
    userErrors {
      ...UserError
    }
  }
  upsertPipelines(input: { items: $pipelines }) {
    upsertedCount
    userErrors {
      ...UserError
    }
  }
}
""",
}


@dataclass(frozen=True)
class DemoUser:
    key: str
    name: str
    seat: str
    permission: str
    team: str

    @property
    def email(self) -> str:
        return f"{self.name.split()[0].lower()}@example.com"


SALES, SUPPORT = "sales", "support"
USERS = (
    DemoUser("ava", "Ava Sales Lead", "PAID", "TEAM", SALES),
    DemoUser("ben", "Ben Carter", "PAID", "OWN", SALES),
    DemoUser("cara", "Cara Diaz", "PAID", "OWN", SALES),
    DemoUser("dev", "Dev Patel", "FREE", "OWN", SALES),
    DemoUser("eli", "Eli Support Lead", "PAID", "TEAM", SUPPORT),
    DemoUser("fay", "Fay Nguyen", "PAID", "OWN", SUPPORT),
    DemoUser("gus", "Gus Olsen", "PAID", "OWN", SUPPORT),
    DemoUser("hal", "Hal Director", "PAID", "ALL", SALES),
)
TEAMS = {SALES: "Sales", SUPPORT: "Support"}
PIPELINES = {
    "support": ("TICKET", "Support"),
    "onboarding": ("TICKET", "Onboarding"),
    "new-business": ("DEAL", "New business"),
    "renewals": ("DEAL", "Renewals"),
    "partners": ("DEAL", "Partners"),
}
TICKETS, DEALS, ENGAGEMENTS = 360, 180, 420


class DemoDataError(Exception):
    """The schema refused demo data: a sign that the demo and the rules disagree."""


class AdminSession:
    """Runs GraphQL documents in-process with the demo admin as the viewer."""

    def __init__(self, admin: User) -> None:
        self.admin = admin

    async def execute(
        self, document: str, variables: dict[str, Any] | None = None, name: str | None = None
    ) -> dict[str, Any]:
        from api.context import Context
        from api.schema import schema

        scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": []}
        context = Context(request=Request(scope), response=Response(), viewer=self.admin)
        result = await schema.execute(
            document, variable_values=variables, context_value=context, operation_name=name
        )
        if result.errors:
            raise DemoDataError(f"{name}: {'; '.join(e.message for e in result.errors)}")
        data = result.data or {}
        problems = [
            f"{field} {'.'.join(e['field'])}: {e['message']}"
            for field, answer in data.items()
            if isinstance(answer, dict)
            for e in answer.get("userErrors") or []
        ]
        if problems:
            raise DemoDataError(f"{name}: {'; '.join(problems[:5])}")
        return data

    async def run(self, name: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """A contract operation by name."""
        operation = OPERATIONS[name]
        used = [text for fragment, text in FRAGMENTS.items() if f"...{fragment}" in operation]
        return await self.execute("".join([operation, *used]), variables, name)


async def seed_demo(now: datetime | None = None) -> tuple[User, bool]:
    """The demo admin, and whether the demo data was created now (False: it was there)."""
    admin = (
        await User.filter(email=DEMO_ADMIN_EMAIL, account__name=DEMO_ACCOUNT)
        .select_related("account")
        .order_by("id")
        .first()
    )
    if admin is None:
        admin = await create_account_with_admin(
            DEMO_ACCOUNT,
            DEMO_ADMIN_EMAIL,
            timezone=DEMO_TIMEZONE,
            admin_name="Dana Admin",
            admin_external_id="demo-admin",
        )
    session = AdminSession(admin)
    # Directory and records are upserts; goals are the one part a second run would duplicate.
    existing = await session.execute("query DemoGoals { goals(first: 1) { totalCount } }")
    if existing["goals"]["totalCount"]:
        return admin, False
    zone = ZoneInfo(admin.account.timezone)
    now = (now or datetime.now(zone)).astimezone(zone).replace(microsecond=0)
    rng = random.Random(7)
    await session.run("SyncDirectory", directory_input())
    await session.run("UpsertTickets", {"items": tickets(rng, now)})
    await session.run("UpsertDeals", {"items": deals(rng, now) + partner_deals(now)})
    await session.run("UpsertEngagements", {"items": engagements(rng, now)})
    ids = await directory_ids(session)
    for goal in demo_goals(ids, now.date()):
        await create_goal(session, ids, goal)
    from domain.progress import refresh_account

    await refresh_account(admin.account_id, now=now)
    return admin, True


# ---------------------------------------------------------------- directory


def directory_input() -> dict[str, Any]:
    return {
        "users": [
            {
                "externalId": f"demo-{u.key}",
                "email": u.email,
                "name": u.name,
                "seat": u.seat,
                "goalPermission": u.permission,
                "isAdmin": False,
                "active": True,
            }
            for u in USERS
        ],
        "teams": [
            {
                "externalId": f"demo-team-{key}",
                "name": name,
                "memberExternalIds": [f"demo-{u.key}" for u in USERS if u.team == key],
            }
            for key, name in TEAMS.items()
        ],
        "pipelines": [
            {"externalId": f"demo-{key}", "objectType": kind, "name": name}
            for key, (kind, name) in PIPELINES.items()
        ],
    }


@dataclass(frozen=True)
class DirectoryIds:
    """Global ids by demo key: users by ``DemoUser.key``, teams and pipelines by their keys."""

    users: dict[str, str]
    teams: dict[str, str]
    pipelines: dict[str, str]


async def directory_ids(session: AdminSession) -> DirectoryIds:
    data = await session.run("Directory")
    return DirectoryIds(
        users={
            e["node"]["externalId"].removeprefix("demo-"): e["node"]["id"]
            for e in data["users"]["edges"]
            if e["node"]["externalId"]
        },
        teams={
            e["node"]["externalId"].removeprefix("demo-team-"): e["node"]["id"]
            for e in data["teams"]["edges"]
            if e["node"]["externalId"]
        },
        pipelines={p["externalId"].removeprefix("demo-"): p["id"] for p in data["pipelines"]},
    )


# ---------------------------------------------------------------- records


def _members(team: str) -> list[str]:
    return [f"demo-{u.key}" for u in USERS if u.team == team and u.key not in ("hal",)]


def _moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A working-hours moment between start and end."""
    day = start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))
    moment = day.replace(hour=rng.randint(8, 17), minute=rng.randint(0, 59), second=0)
    return min(max(moment, start), end)


def _window(now: datetime) -> datetime:
    """From the start of the year, and at least a quarter back, so early January has history."""
    year_start = now.replace(month=1, day=1, hour=0, minute=0, second=0)
    return min(year_start, now - timedelta(days=90))


def _iso(moment: datetime | None, now: datetime) -> str | None:
    return moment.isoformat() if moment is not None and moment <= now else None


def tickets(rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    start, owners = _window(now), _members(SUPPORT)
    items = []
    for n in range(TICKETS):
        created = _moment(rng, start, now)
        responded = created + timedelta(minutes=rng.triangular(5, 480, 45))
        closed = responded + timedelta(hours=rng.triangular(1, 120, 10))
        items.append(
            {
                "externalId": f"demo-ticket-{n}",
                "pipelineExternalId": "demo-support" if rng.random() < 0.7 else "demo-onboarding",
                "ownerExternalId": rng.choice(owners),
                "createdAt": created.isoformat(),
                "firstRespondedAt": _iso(responded if rng.random() < 0.92 else None, now),
                "closedAt": _iso(closed if rng.random() < 0.8 else None, now),
            }
        )
    return items


def deals(rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    start, owners = _window(now), _members(SALES)
    items = []
    for n in range(DEALS):
        created = _moment(rng, start, now)
        won = created + timedelta(days=rng.triangular(2, 60, 14))
        amount = Decimal(rng.randrange(50_000, 2_500_000)) / 100
        items.append(
            {
                "externalId": f"demo-deal-{n}",
                "pipelineExternalId": "demo-new-business"
                if rng.random() < 0.65
                else "demo-renewals",
                "ownerExternalId": rng.choice(owners),
                "amount": str(amount),
                "createdAt": created.isoformat(),
                "closedWonAt": _iso(won if rng.random() < 0.45 else None, now),
            }
        )
    return items


def _month_start(day: date, months_back: int = 0) -> date:
    total = day.year * 12 + day.month - 1 - months_back
    return date(total // 12, total % 12 + 1, 1)


# Deals created in the Partners pipeline, per month (two months ago, last month, this month):
# last month Ben and Ava beat their 4 and Cara missed hers, so "Partner deals" read for last
# month shows EXCEEDED and MISSED contributors whatever the rest of the data does; Ben and Ava,
# deal for deal alike, share the first place of its leaderboard.
PARTNER_DEALS = {"ben": (3, 6, 2), "cara": (5, 2, 1), "ava": (3, 6, 2)}


def partner_deals(now: datetime) -> list[dict[str, Any]]:
    items = []
    for key, per_month in PARTNER_DEALS.items():
        for months_back, count in zip((2, 1, 0), per_month, strict=True):
            first = _month_start(now.date(), months_back)
            for n in range(count):
                created = datetime.combine(first + timedelta(days=n), time(11), now.tzinfo)
                if created > now:
                    continue
                items.append(
                    {
                        "externalId": f"demo-partner-{key}-{first:%Y-%m}-{n}",
                        "pipelineExternalId": "demo-partners",
                        "ownerExternalId": f"demo-{key}",
                        "amount": "1000",
                        "createdAt": created.isoformat(),
                        "closedWonAt": None,
                    }
                )
    return items


def engagements(rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    start, owners = _window(now), _members(SALES)
    return [
        {
            "externalId": f"demo-engagement-{n}",
            "kind": "CALL" if rng.random() < 0.7 else "MEETING",
            "ownerExternalId": rng.choice(owners),
            "occurredAt": _moment(rng, start, now).isoformat(),
        }
        for n in range(ENGAGEMENTS)
    ]


# ---------------------------------------------------------------- goals


@dataclass(frozen=True)
class DemoGoal:
    name: str
    category: str
    type: str
    start: date
    end: date
    period: str
    pipelines: Sequence[str]
    # (user key or "team:<key>", target per milestone)
    contributors: Sequence[tuple[str, Decimal]]
    notify: Sequence[str] = ("GOAL_ASSIGNED", "MILESTONE_ACHIEVED", "GOAL_COMPLETED")


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def demo_goals(ids: DirectoryIds, today: date) -> list[DemoGoal]:
    year = (date(today.year, 1, 1), date(today.year, 12, 31))
    quarter_start = _quarter_start(today)
    quarter = (quarter_start, _quarter_start(quarter_start + timedelta(days=100)) - timedelta(1))
    last_quarter_start = _quarter_start(quarter_start - timedelta(days=1))
    last_quarter = (last_quarter_start, quarter_start - timedelta(days=1))
    partner_months = (_month_start(today, 2), _month_start(today, -1) - timedelta(days=1))
    d = Decimal
    return [
        DemoGoal(
            "Revenue this year", "SALES", "REVENUE", *year, "QUARTERLY",
            ["new-business", "renewals"],
            [("team:sales", d(250_000)), ("ben", d(80_000)), ("cara", d(80_000))],
        ),
        DemoGoal(
            "New business deals", "SALES", "DEALS_CREATED", *year, "MONTHLY",
            ["new-business"], [("ben", d(4)), ("cara", d(4)), ("ava", d(3))],
        ),
        DemoGoal(
            "Calls this quarter", "SALES", "CALLS_LOGGED", *quarter, "WEEKLY",
            [], [("ben", d(8)), ("cara", d(8)), ("ava", d(6))],
        ),
        DemoGoal(
            "Meetings booked", "SALES", "MEETINGS_BOOKED", *year, "MONTHLY",
            [], [("team:sales", d(12))],
        ),
        DemoGoal(
            "Renewals last quarter", "SALES", "REVENUE", *last_quarter, "MONTHLY",
            ["renewals"], [("ben", d(15_000)), ("cara", d(15_000))],
        ),
        DemoGoal(
            "Closed tickets", "SERVICE", "CLOSED_TICKETS", *year, "MONTHLY",
            ["support", "onboarding"],
            [("team:support", d(30)), ("fay", d(10)), ("gus", d(10))],
        ),
        DemoGoal(
            "First response time", "SERVICE", "AVG_TICKET_RESPONSE_TIME", *year, "QUARTERLY",
            ["support"], [("fay", d(10_800)), ("gus", d(9_000)), ("eli", d(14_400))],
        ),
        DemoGoal(
            "Resolution time", "SERVICE", "AVG_TICKET_RESOLUTION_TIME", *year, "YEARLY",
            ["support", "onboarding"], [("team:support", d(172_800))],
        ),
        DemoGoal(
            "Partner deals", "SALES", "DEALS_CREATED", *partner_months, "MONTHLY",
            ["partners"], [("ben", d(4)), ("cara", d(4)), ("ava", d(4))],
            notify=("GOAL_ASSIGNED", "MILESTONE_ACHIEVED", "MILESTONE_MISSED"),
        ),
    ]  # fmt: skip


async def create_goal(session: AdminSession, ids: DirectoryIds, goal: DemoGoal) -> None:
    preview = await session.run(
        "MilestonePreview",
        {
            "startDate": goal.start.isoformat(),
            "endDate": goal.end.isoformat(),
            "milestonePeriod": goal.period,
            "alignToFiscalYear": False,
        },
    )
    milestones = len(preview["milestonePreview"])
    contributors = []
    for key, target in goal.contributors:
        team = key.removeprefix("team:")
        contributor = {"teamId": ids.teams[team]} if team != key else {"userId": ids.users[key]}
        contributors.append({**contributor, "targets": [str(target)] * milestones})
    await session.run(
        "CreateGoal",
        {
            "input": {
                "name": goal.name,
                "category": goal.category,
                "type": goal.type,
                "startDate": goal.start.isoformat(),
                "endDate": goal.end.isoformat(),
                "milestonePeriod": goal.period,
                "alignToFiscalYear": False,
                "pipelineIds": [ids.pipelines[p] for p in goal.pipelines],
                "notify": list(goal.notify),
                "contributors": contributors,
            }
        },
    )
