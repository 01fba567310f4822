"""Generated GraphQL operations against a live server: every query and mutation of the schema,
with arguments drawn by schemathesis (real ids of a seeded tenant, decimals, dates, and junk),
sent with a valid token. None may end in a server error, plain or masked."""

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from tests.e2e.conftest import ROOT, empty_database, free_port, wait_until_ready

POSTGRES_URL = os.environ.get("GOALS_TEST_POSTGRES_URL")
EXAMPLES_PER_OPERATION = 15

IDS_QUERY = """
{
  users(first: 100) { edges { node { id } } }
  teams(first: 100) { edges { node { id } } }
  pipelines { id }
  viewer { id notifications(first: 50) { edges { node { id } } } }
  goals(first: 50) { edges { node { id contributors { id } } } }
}
"""


def _real_ids(base_url: str, token: str) -> list[str]:
    response = httpx.post(
        f"{base_url}/graphql",
        json={"query": IDS_QUERY},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    data = response.json()["data"]
    ids = [data["viewer"]["id"]]
    ids += [e["node"]["id"] for e in data["users"]["edges"]]
    ids += [e["node"]["id"] for e in data["teams"]["edges"]]
    ids += [p["id"] for p in data["pipelines"]]
    ids += [e["node"]["id"] for e in data["viewer"]["notifications"]["edges"]]
    for edge in data["goals"]["edges"]:
        ids.append(edge["node"]["id"])
        ids += [c["id"] for c in edge["node"]["contributors"]]
    return ids


def _register_scalars(real_ids: list[str]) -> None:
    decimals = st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
        st.sampled_from(["0", "-1", "1E+1000000", "NaN", "Infinity", "1e-30", "12.34567", "x"]),
    )
    schemathesis.graphql.scalar("Decimal", decimals.map(nodes.String))
    junk_ids = st.text(max_size=30) | st.binary(max_size=30).map(lambda b: b.hex())
    schemathesis.graphql.scalar(
        "ID", st.one_of(st.sampled_from(real_ids), junk_ids).map(nodes.String)
    )


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A `goals serve` process over the demo tenant: (base URL, the demo admin's token)."""
    tmp = tmp_path_factory.mktemp("generated")
    for database_url in empty_database(tmp, "generated"):
        env = {k: v for k, v in os.environ.items() if not k.startswith("GOALS_")}
        env |= {"GOALS_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "api.cli"]
        for step in (["migrate"], ["seed-demo"]):
            done = subprocess.run(
                [*command, *step], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
            )
            assert done.returncode == 0, done.stderr
        token = done.stdout.strip().splitlines()[-1]
        port = free_port()
        log = (tmp / "serve.log").open("wb")
        server = subprocess.Popen(
            [*command, "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_ready(base_url, server)
            yield base_url, token
        finally:
            server.terminate()
            server.wait(20)


@pytest.fixture(scope="module")
def graphql_schema(live_server: tuple[str, str]):
    base_url, token = live_server
    _register_scalars(_real_ids(base_url, token))
    return schemathesis.graphql.from_url(
        f"{base_url}/graphql", headers={"Authorization": f"Bearer {token}"}
    )


def test_no_generated_operation_is_a_server_error(graphql_schema, live_server) -> None:
    _, token = live_server
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[tuple[str, str, str]] = []
    cases = 0

    for result in graphql_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            phases=[Phase.generate],
        )
        def run(case) -> None:
            nonlocal cases
            cases += 1
            response = case.call(headers=headers, timeout=60)
            if response.status_code >= 500 or "Unexpected error" in response.text:
                failures.append((case.operation.label, str(case.body), response.text[:300]))

        run()
    print(f"{cases} generated operations")
    assert cases >= 100
    assert not failures, failures[:5]
