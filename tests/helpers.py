"""Test helpers: build a tenant, send GraphQL as its users, count SQL statements."""

import functools
import logging
import pathlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from graphql import (
    FragmentDefinitionNode,
    FragmentSpreadNode,
    Node,
    OperationDefinitionNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

from api.ids import to_global_id
from domain.enums import GoalCategory, GoalPermission, GoalType, MilestonePeriod, ObjectType, Seat
from domain.models import (
    Account,
    ContributorGoal,
    Goal,
    GoalPipeline,
    Milestone,
    MilestonePipeline,
    Pipeline,
    Team,
    TeamMembership,
    User,
)
from domain.periods import milestone_periods
from domain.tokens import issue_token

CONTRACT_DIR = pathlib.Path(__file__).parent / "contract"


def contract_files() -> list[pathlib.Path]:
    """The vendored copies of the client contract: every ``tests/contract/*.graphql``."""
    return sorted(CONTRACT_DIR.glob("*.graphql"))


def _fragments_used(
    node: Node, fragments: dict[str, FragmentDefinitionNode], seen: dict[str, None]
) -> dict[str, None]:
    """The names of the fragments ``node`` spreads, directly or through other fragments."""

    class Spreads(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_: object) -> None:
            name = spread.name.value
            if name not in seen:
                seen[name] = None
                _fragments_used(fragments[name], fragments, seen)

    visit(node, Spreads())
    return seen


@functools.cache
def contract_operations() -> dict[str, str]:
    """Every operation of every contract file by name, each followed by the fragments of its own
    file that it uses (each file stands alone; operation names are unique across files)."""
    found: dict[str, str] = {}
    for path in contract_files():
        document = parse(path.read_text())
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name:
                name = definition.name.value
                assert name not in found, f"operation {name} is in two contract files"
                used = _fragments_used(definition, fragments, {})
                found[name] = "\n\n".join(
                    print_ast(node) for node in [definition, *(fragments[f] for f in used)]
                )
    return found


def contract_operation(name: str) -> str:
    """The named operation of the client contract, with the fragments it needs."""
    return contract_operations()[name]


async def gql(
    client: httpx.AsyncClient,
    token: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    expect_errors: bool = False,
) -> dict[str, Any]:
    """POST a GraphQL document; fails the test on GraphQL errors unless they are expected."""
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    if not expect_errors:
        assert response.status_code == 200, body
        assert not body.get("errors"), body["errors"]
    return body


async def op(client: httpx.AsyncClient, token: str, name: str, variables=None, **kw):
    """Run a contract operation by name and return its ``data``."""
    return (await gql(client, token, contract_operation(name), variables, **kw)).get("data")


@dataclass
class Tenant:
    account: Account
    admin: User
    admin_token: str
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    pipelines: dict[str, Pipeline] = field(default_factory=dict)

    async def add_user(
        self,
        key: str,
        *,
        seat: Seat = Seat.PAID,
        permission: GoalPermission = GoalPermission.OWN,
        is_admin: bool = False,
        active: bool = True,
    ) -> User:
        user = await User.create(
            account=self.account,
            external_id=f"ext-{key}",
            email=f"{key}@{self.account.name.lower()}.test",
            name=key.title(),
            seat=seat,
            goal_permission=permission,
            is_admin=is_admin,
            active=active,
        )
        self.users[key] = user
        self.tokens[key], _ = await issue_token(user, "test")
        return user

    async def add_team(self, key: str, members: list[str]) -> Team:
        team = await Team.create(account=self.account, external_id=f"ext-{key}", name=key.title())
        for member in members:
            await TeamMembership.create(account=self.account, team=team, user=self.users[member])
        self.teams[key] = team
        return team

    async def add_pipeline(self, key: str, object_type: ObjectType) -> Pipeline:
        pipeline = await Pipeline.create(
            account=self.account, external_id=f"ext-{key}", object_type=object_type, name=key
        )
        self.pipelines[key] = pipeline
        return pipeline


async def make_tenant(name: str = "Acme", timezone: str = "UTC", fiscal_month: int = 1) -> Tenant:
    account = await Account.create(
        name=name, timezone=timezone, fiscal_year_start_month=fiscal_month
    )
    admin = await User.create(
        account=account,
        external_id="ext-admin",
        email=f"admin@{name.lower()}.test",
        name="Admin",
        is_admin=True,
        goal_permission=GoalPermission.ALL,
    )
    token, _ = await issue_token(admin, "test")
    tenant = Tenant(account=account, admin=admin, admin_token=token)
    tenant.users["admin"] = admin
    tenant.tokens["admin"] = token
    return tenant


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.split(None, 1)[0].upper() in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}:
            self.statements.append(message)


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """Collects the SQL statements Tortoise sends while the block runs."""
    logger = logging.getLogger("tortoise.db_client")
    counter = _Counter()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter.statements
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous)


# ---------------------------------------------------------------- goals


def gid(type_name: str, pk: int) -> str:
    """The global id clients see for a row."""
    return str(to_global_id(type_name, pk))


@dataclass
class Share:
    """One contributor of a test goal with its stored roll-up."""

    who: User | Team
    value: Decimal | None = None
    target: Decimal = Decimal(0)
    percent: Decimal | None = None


async def add_goal(
    tenant: Tenant,
    name: str,
    shares: Sequence[Share | User | Team],
    *,
    category: GoalCategory = GoalCategory.SALES,
    goal_type: GoalType = GoalType.DEALS_CREATED,
    start: date = date(2026, 1, 1),
    end: date = date(2026, 12, 31),
    period: MilestonePeriod = MilestonePeriod.QUARTERLY,
    pipelines: Sequence[Pipeline] = (),
    created_by: User | None = None,
    value: Decimal | None = None,
    target: Decimal = Decimal(0),
    percent: Decimal | None = None,
    milestone_target: Decimal = Decimal(10),
    notify: Sequence[str] = (),
) -> Goal:
    """A goal written straight to the tables, as the write side and the refresh would leave it."""
    goal = await Goal.create(
        account=tenant.account,
        name=name,
        category=category,
        type=goal_type,
        start_date=start,
        end_date=end,
        milestone_period=period,
        notify=list(notify),
        created_by=created_by,
        value=value,
        target=target,
        percent=percent,
    )
    for pipeline in pipelines:
        await GoalPipeline.create(goal=goal, pipeline=pipeline)
    for share in shares:
        if not isinstance(share, Share):
            share = Share(share)
        contributor_goal = await ContributorGoal.create(
            account=tenant.account,
            goal=goal,
            user=share.who if isinstance(share.who, User) else None,
            team=share.who if isinstance(share.who, Team) else None,
            value=share.value,
            target=share.target,
            percent=share.percent,
        )
        for window in milestone_periods(start, end, period):
            milestone = await Milestone.create(
                contributor_goal=contributor_goal,
                index=window.index,
                start_date=window.start_date,
                end_date=window.end_date,
                target=milestone_target,
            )
            for pipeline in pipelines:
                await MilestonePipeline.create(milestone=milestone, pipeline=pipeline)
    return goal


async def sales_floor(fiscal_month: int = 1) -> Tenant:
    """An account with two paid reps in a team, ticket and deal pipelines."""
    tenant = await make_tenant(fiscal_month=fiscal_month)
    await tenant.add_user("ana", permission=GoalPermission.TEAM)
    await tenant.add_user("ben")
    await tenant.add_team("support", ["ana", "ben"])
    await tenant.add_pipeline("inbox", ObjectType.TICKET)
    await tenant.add_pipeline("escalations", ObjectType.TICKET)
    await tenant.add_pipeline("new-business", ObjectType.DEAL)
    return tenant


def quarterly_ticket_goal(tenant: Tenant, **overrides: Any) -> dict[str, Any]:
    """CreateGoal's input for a ticket goal of ``sales_floor``, over 2026 by quarters."""
    goal = {
        "name": "  Close more tickets  ",
        "category": "SERVICE",
        "type": "CLOSED_TICKETS",
        "startDate": "2026-01-01",
        "endDate": "2026-12-31",
        "milestonePeriod": "QUARTERLY",
        "pipelineIds": [gid("Pipeline", tenant.pipelines["inbox"].id)],
        "contributors": [
            {"userId": gid("User", tenant.users["ana"].id), "targets": [10, 12, 12, 15]},
            {
                "teamId": gid("Team", tenant.teams["support"].id),
                "targets": ["40", "40", "40", "40"],
            },
        ],
    }
    goal.update(overrides)
    return goal


async def made_goal(client: httpx.AsyncClient, tenant: Tenant, **overrides: Any) -> dict:
    """A goal created over the API from ``quarterly_ticket_goal``; returns the payload's goal."""
    goal = quarterly_ticket_goal(tenant, **overrides)
    result = (await op(client, tenant.admin_token, "CreateGoal", {"input": goal}))["createGoal"]
    assert result["userErrors"] == []
    return result["goal"]


async def update_goal(client: httpx.AsyncClient, token: str, **input: Any) -> dict:
    return (await op(client, token, "UpdateGoal", {"input": input}))["updateGoal"]


# ---------------------------------------------------------------- account

UPDATE_ACCOUNT_SETTINGS = """
mutation ($input: UpdateAccountSettingsInput!) {
  updateAccountSettings(input: $input) {
    account { name timezone fiscalYearStartMonth currency webhookUrl refreshHour }
    userErrors { field code message }
  }
}
"""


async def update_account_settings(client: httpx.AsyncClient, token: str, **fields: Any) -> dict:
    body = await gql(client, token, UPDATE_ACCOUNT_SETTINGS, {"input": fields})
    return body["data"]["updateAccountSettings"]
