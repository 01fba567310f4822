"""Test helpers: build a tenant, send GraphQL as its users, count SQL statements."""

import functools
import logging
import pathlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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

from domain.enums import GoalPermission, ObjectType, Seat
from domain.models import Account, Pipeline, Team, TeamMembership, User
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
