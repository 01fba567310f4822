"""What reaches the GraphQL endpoint before any resolver: body size, malformed bodies, text
the database cannot hold, request ids, and the metrics labels unknown paths would grow."""

import json
import re

import pytest

from domain.settings import Settings
from tests.helpers import gql, make_tenant


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


async def test_a_body_over_the_limit_is_refused_before_it_is_parsed(client) -> None:
    tenant = await make_tenant()
    unused = "x" * (2 * 1024 * 1024)
    response = await client.post(
        "/graphql",
        content=json.dumps({"query": "{ viewer { id } }", "variables": {"unused": unused}}),
        headers=_auth(tenant.admin_token),
    )
    assert response.status_code == 413
    assert (
        "larger than 2,097,152 bytes (GOALS_MAX_BODY_BYTES)"
        in response.json()["errors"][0]["message"]
    )


async def test_a_chunked_body_is_counted_while_it_is_read(client) -> None:
    tenant = await make_tenant()
    sent = 0

    async def chunks():
        nonlocal sent
        yield b'{"query": "{ viewer { id } }", "variables": {"unused": "'
        for _ in range(1000):  # 64 MB if it were all read
            sent += 1
            yield b"x" * 65536
        yield b'"}}'

    response = await client.post("/graphql", content=chunks(), headers=_auth(tenant.admin_token))
    assert response.status_code == 413
    assert sent <= 33  # stopped just past 2 MB


@pytest.mark.parametrize(
    "settings", [Settings(database_url="unused", redis_url=None, max_body_bytes=100)]
)
async def test_the_body_limit_is_a_setting(client) -> None:
    tenant = await make_tenant()
    small = await gql(client, tenant.admin_token, "{ viewer { id } }")
    assert small["data"]["viewer"]["id"]
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { id } }" + " " * 100},
        headers=_auth(tenant.admin_token),
    )
    assert response.status_code == 413


async def test_comments_count_against_the_token_limit(client) -> None:
    tenant = await make_tenant()
    body = await gql(
        client, tenant.admin_token, "#\n" * 5000 + "{ viewer { id } }", expect_errors=True
    )
    assert body["data"] is None
    assert "more than 5000 tokens" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "content",
    ['"x"', "1", "null", "[]", "[" * 100_000 + "]" * 100_000, '{"query": ' + "[" * 100_000],
    ids=["string", "number", "null", "list", "deep", "deep-unterminated"],
)
async def test_a_body_that_is_not_a_json_object_is_a_400(client, content) -> None:
    tenant = await make_tenant()
    response = await client.post("/graphql", content=content, headers=_auth(tenant.admin_token))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    (error,) = response.json()["errors"]
    assert error["message"] in (
        "The request body must be a JSON object.",
        "The request body is nested too deeply.",
        "Unable to parse request body as JSON",
    )


async def test_a_body_that_is_not_utf8_is_a_400(client) -> None:
    tenant = await make_tenant()
    response = await client.post(
        "/graphql", content=b'{"query": "\xff"}', headers=_auth(tenant.admin_token)
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "The request body is not UTF-8."


async def test_deeply_nested_variables_are_refused_clearly(client) -> None:
    tenant = await make_tenant()
    nested = "[" * 900 + "]" * 900
    response = await client.post(
        "/graphql",
        content='{"query": "query($f: GoalFilter) { goals(filter: $f) { totalCount } }", '
        f'"variables": {{"f": {{"userIds": {nested}}}}}}}',
        headers=_auth(tenant.admin_token),
    )
    assert response.status_code in (200, 400)
    assert "Unexpected error" not in response.text


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        (
            "mutation($n: String!) { createApiToken(input: {name: $n}) { token } }",
            {"n": "\ud800"},
            "Text cannot contain a lone surrogate",
        ),
        (
            '{ goals(filter: {search: "a\ud800"}) { totalCount } }',
            {},
            "Syntax Error: Invalid character within String: U+D800.",
        ),
        (
            "query($s: String) { goals(filter: {search: $s}) { totalCount } }",
            {"s": "a\udfffb"},
            "Text cannot contain a lone surrogate",
        ),
    ],
    ids=["variable", "literal", "filter"],
)
async def test_a_lone_surrogate_in_text_is_refused(client, query, variables, message) -> None:
    tenant = await make_tenant()
    response = await client.post(
        "/graphql",
        # ensure_ascii keeps the lone surrogate as a \\ud800 escape, as a client would send it.
        content=json.dumps({"query": query, "variables": variables}),
        headers=_auth(tenant.admin_token),
    )
    assert response.status_code == 200
    assert response.json()["errors"][0]["message"].startswith(message)


async def test_unknown_paths_add_no_metrics_labels(client) -> None:
    await client.get("/healthz")
    for i in range(1000):
        assert (await client.get(f"/no/such/path/{i}")).status_code == 404
    text = (await client.get("/metrics")).text
    paths = set(re.findall(r'^goals_http_requests_total\{[^}]*path="([^"]*)"', text, re.M))
    assert paths <= {"/healthz", "/metrics", "/graphql", "<unmatched>"}, paths
    unmatched = re.search(
        r'^goals_http_requests_total\{method="GET",path="<unmatched>",status="404"\} (\d+)',
        text,
        re.M,
    )
    assert unmatched and float(unmatched.group(1)) >= 1000


async def test_graphql_requests_are_labelled_by_route(client) -> None:
    tenant = await make_tenant()
    await gql(client, tenant.admin_token, "{ viewer { id } }")
    text = (await client.get("/metrics")).text
    assert re.search(
        r'goals_http_requests_total\{method="POST",path="/graphql",status="200"\}', text
    )


@pytest.mark.parametrize(
    "incoming",
    ["has space", "line\nbreak".replace("\n", "%0A"), "x" * 65, 'quote"d', "ü"],
)
async def test_an_unsafe_request_id_is_replaced(client, incoming) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": incoming.encode()})
    assert response.headers["x-request-id"] != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_a_safe_request_id_is_kept(client) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "trace-42.a_B"})
    assert response.headers["x-request-id"] == "trace-42.a_B"
