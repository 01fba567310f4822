"""The web client's operations against the live schema, and the committed copies kept in step."""

import pathlib
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse, print_ast, validate

from api.cli.operator import new_token, schema_sdl
from api.demo import FRAGMENTS, OPERATIONS, seed_demo
from api.schema import schema
from domain.settings import Settings
from tests.helpers import contract_files, contract_operation, contract_operations, op

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED_CONTRACT_DIR = ROOT.parent / "shared" / "contract"
VENDORED = [path.name for path in contract_files()]


def _definitions(file_name: str) -> list:
    return list(parse((ROOT / "tests" / "contract" / file_name).read_text()).definitions)


def _operation_names(file_name: str) -> list[str]:
    return [d.name.value for d in _definitions(file_name) if isinstance(d, OperationDefinitionNode)]


def _contract_fragment(name: str) -> FragmentDefinitionNode:
    return next(
        d
        for file_name in VENDORED
        for d in _definitions(file_name)
        if isinstance(d, FragmentDefinitionNode) and d.name.value == name
    )


def test_the_contract_has_operations() -> None:
    first = _operation_names("operations.graphql")
    assert len(first) >= 20
    assert "Viewer" in first and "CreateGoal" in first
    assert {"ManageGoalsInRange", "PickContributors"} <= set(contract_operations())


@pytest.mark.parametrize("name", sorted(contract_operations()))
def test_operation_validates(name: str) -> None:
    errors = validate(schema._schema, parse(contract_operation(name)))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize("file_name", VENDORED)
def test_every_operation_of_a_contract_file_is_served(file_name: str) -> None:
    # The operations with their own file's fragments, validated as the client sends the file.
    errors = validate(
        schema._schema, parse(ROOT.joinpath("tests", "contract", file_name).read_text())
    )
    assert not errors, [e.message for e in errors]
    assert _operation_names(file_name)


def test_committed_schema_is_current() -> None:
    committed = ROOT / "schema.graphql"
    assert committed.exists(), "schema.graphql is missing: run goals export-schema > schema.graphql"
    assert committed.read_text() == schema_sdl(), (
        "schema.graphql is stale: run goals export-schema > schema.graphql"
    )


@pytest.mark.skipif(
    not SHARED_CONTRACT_DIR.is_dir(), reason="no ../shared/contract beside the clone"
)
@pytest.mark.parametrize("file_name", VENDORED)
def test_vendored_contract_equals_the_shared_one(file_name: str) -> None:
    vendored = ROOT / "tests" / "contract" / file_name
    shared = SHARED_CONTRACT_DIR / file_name
    assert shared.exists(), f"tests/contract/{file_name} has no ../shared/contract/{file_name}"
    assert vendored.read_text() == shared.read_text(), (
        f"tests/contract/{file_name} differs from ../shared/contract/{file_name}; "
        "copy the shared one over"
    )


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_demo_sends_contract_operations_verbatim(name: str) -> None:
    contract = parse(contract_operation(name)).definitions[0]
    (demo,) = parse(OPERATIONS[name]).definitions
    assert print_ast(demo) == print_ast(contract)


@pytest.mark.parametrize("name", sorted(FRAGMENTS))
def test_demo_sends_contract_fragments_verbatim(name: str) -> None:
    (demo,) = parse(FRAGMENTS[name]).definitions
    assert print_ast(demo) == print_ast(_contract_fragment(name))


async def test_demo_data_goes_through_the_contract_once(db, client) -> None:
    admin, created = await seed_demo()
    assert created
    token = await new_token(admin, "test")
    first = await op(client, token, "ManageGoals", {"first": 100})
    names = {edge["node"]["name"] for edge in first["goals"]["edges"]}
    assert len(names) == 9 and {"Revenue this year", "Partner deals"} <= names
    directory = await op(client, token, "Directory")
    assert directory["users"]["totalCount"] == 9  # the admin and eight synced people
    assert {t["node"]["name"] for t in directory["teams"]["edges"]} == {"Sales", "Support"}

    # Read for last month, the partner deals were beaten by Ben and Ava and missed by Cara.
    today = datetime.now(ZoneInfo(admin.account.timezone)).date()
    last_day = today.replace(day=1) - timedelta(days=1)
    last_month = {"from": last_day.replace(day=1).isoformat(), "to": last_day.isoformat()}
    in_range = {"filter": {"dateRange": last_month}, "range": last_month, "first": 100}
    managed = await op(client, token, "ManageGoalsInRange", in_range)
    (partners,) = [
        e["node"] for e in managed["goals"]["edges"] if e["node"]["name"] == "Partner deals"
    ]
    assert [
        (c["contributor"]["name"], c["status"], c["progress"]["value"])
        for c in partners["contributors"]
    ] == [
        ("Ben Carter", "EXCEEDED", "6"),
        ("Cara Diaz", "MISSED", "2"),
        ("Ava Sales Lead", "EXCEEDED", "6"),
    ]
    assert [len(c["milestones"]) for c in partners["contributors"]] == [1, 1, 1]
    in_range["filter"]["statuses"] = ["MISSED"]
    missed = await op(client, token, "ManageGoalsInRange", in_range)
    (partners,) = [
        e["node"] for e in missed["goals"]["edges"] if e["node"]["name"] == "Partner deals"
    ]
    assert [c["contributor"]["name"] for c in partners["contributors"]] == ["Cara Diaz"]

    # Over the three months Ben and Ava tie for first; everyone has a pace; the records behind
    # Ben's last month are his six partner deals.
    insight = (await op(client, token, "GoalInsight", {"id": partners["id"]}))["goal"]
    assert [
        (e["rank"], e["contributorGoal"]["contributor"]["name"]) for e in insight["leaderboard"]
    ] == [
        (1, "Ava Sales Lead"),
        (1, "Ben Carter"),
        (3, "Cara Diaz"),
    ]
    assert insight["pace"] is not None
    assert all(c["pace"]["status"] for c in insight["contributors"])
    milestones = (await op(client, token, "GoalMilestones", {"id": partners["id"]}))["goal"]
    ben = next(c for c in milestones["contributors"] if c["contributor"]["name"] == "Ben Carter")
    (last,) = [ms for ms in ben["milestones"] if ms["startDate"] == last_month["from"]]
    records = await op(client, token, "MilestoneRecords", {"id": last["id"], "first": 100})
    behind = records["milestone"]["records"]
    assert behind["totalCount"] == 6
    assert {e["node"]["owner"]["name"] for e in behind["edges"]} == {"Ben Carter"}
    assert sum(int(e["node"]["contribution"]) for e in behind["edges"]) == 6

    again, created = await seed_demo()
    assert (again.id, created) == (admin.id, False)
    second = await op(client, token, "ManageGoals", {"first": 100})
    assert second["goals"]["totalCount"] == first["goals"]["totalCount"]


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `(GOALS_[A-Z_]+)` \|", readme, re.MULTILINE))
    assert documented == {f"GOALS_{name.upper()}" for name in Settings.model_fields}


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"after `pip install -e '\.\[test\]'`:\n\n```\n(.+)\n```", readme)
    assert command, "the README's Tests section names no command"
    # .ci/run sets up the environment, then runs the checks of .ci/check.
    assert re.search(r"^\.ci/check\b", (ROOT / ".ci" / "run").read_text(), re.MULTILINE)
    checks = (ROOT / ".ci" / "check").read_text()
    assert re.search(rf"^{re.escape(command.group(1))} \|\| status=\$\?$", checks, re.MULTILINE)


def test_readme_examples_validate() -> None:
    readme = (ROOT / "README.md").read_text()
    examples = re.findall(r"```graphql\n(.*?)```", readme, re.DOTALL)
    assert len(examples) >= 2
    for example in examples:
        assert not validate(schema._schema, parse(example)), example
