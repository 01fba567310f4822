"""The web client's operations against the live schema, and the committed copies kept in step."""

import pathlib
import re

import pytest
from graphql import OperationDefinitionNode, parse, print_ast, validate

from api.cli import new_token, schema_sdl
from api.demo import FRAGMENTS, OPERATIONS, seed_demo
from api.schema import schema
from domain.settings import Settings
from tests.helpers import CONTRACT, op

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED_CONTRACT = ROOT.parent / "shared" / "contract" / "operations.graphql"

DOCUMENT = parse(CONTRACT.read_text())
FRAGMENTS_OF_CONTRACT = [d for d in DOCUMENT.definitions if d.kind == "fragment_definition"]
OPERATION_NAMES = [
    d.name.value for d in DOCUMENT.definitions if isinstance(d, OperationDefinitionNode)
]


def test_the_contract_has_operations() -> None:
    assert len(OPERATION_NAMES) >= 20
    assert "Viewer" in OPERATION_NAMES and "CreateGoal" in OPERATION_NAMES


@pytest.mark.parametrize("name", OPERATION_NAMES)
def test_operation_validates(name: str) -> None:
    operation = next(
        d
        for d in DOCUMENT.definitions
        if isinstance(d, OperationDefinitionNode) and d.name.value == name
    )
    used = print_ast(operation)
    fragments = [f for f in FRAGMENTS_OF_CONTRACT if f"...{f.name.value}" in used]
    document = parse("\n".join([used, *(print_ast(f) for f in fragments)]))
    errors = validate(schema._schema, document)
    assert not errors, [e.message for e in errors]


def test_committed_schema_is_current() -> None:
    committed = ROOT / "schema.graphql"
    assert committed.exists(), "schema.graphql is missing: run goals export-schema > schema.graphql"
    assert committed.read_text() == schema_sdl(), (
        "schema.graphql is stale: run goals export-schema > schema.graphql"
    )


@pytest.mark.skipif(not SHARED_CONTRACT.exists(), reason="no ../shared/contract beside the clone")
def test_vendored_contract_equals_the_shared_one() -> None:
    assert CONTRACT.read_text() == SHARED_CONTRACT.read_text(), (
        "tests/contract/operations.graphql differs from ../shared/contract/operations.graphql; "
        "copy the shared one over"
    )


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_demo_sends_contract_operations_verbatim(name: str) -> None:
    contract = next(
        d
        for d in DOCUMENT.definitions
        if isinstance(d, OperationDefinitionNode) and d.name.value == name
    )
    (demo,) = parse(OPERATIONS[name]).definitions
    assert print_ast(demo) == print_ast(contract)


@pytest.mark.parametrize("name", sorted(FRAGMENTS))
def test_demo_sends_contract_fragments_verbatim(name: str) -> None:
    contract = next(f for f in FRAGMENTS_OF_CONTRACT if f.name.value == name)
    (demo,) = parse(FRAGMENTS[name]).definitions
    assert print_ast(demo) == print_ast(contract)


async def test_demo_data_goes_through_the_contract_once(db, client) -> None:
    admin, created = await seed_demo()
    assert created
    token = await new_token(admin, "test")
    first = await op(client, token, "ManageGoals", {"first": 100})
    names = {edge["node"]["name"] for edge in first["goals"]["edges"]}
    assert len(names) == 8 and "Revenue this year" in names
    directory = await op(client, token, "Directory")
    assert directory["users"]["totalCount"] == 9  # the admin and eight synced people
    assert {t["node"]["name"] for t in directory["teams"]["edges"]} == {"Sales", "Support"}

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
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(rf"^{re.escape(command.group(1))} \|\| status=\$\?$", ci, re.MULTILINE)


def test_readme_examples_validate() -> None:
    readme = (ROOT / "README.md").read_text()
    examples = re.findall(r"```graphql\n(.*?)```", readme, re.DOTALL)
    assert len(examples) >= 2
    for example in examples:
        assert not validate(schema._schema, parse(example)), example
