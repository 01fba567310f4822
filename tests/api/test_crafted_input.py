"""Input crafted to break the server gets a clear error on its field, never a masked 500."""

import base64
import json

import pytest

from api.ids import to_global_id
from tests.helpers import make_tenant, op

CURSOR_QUERY = """
query($after: String, $field: GoalOrderField!) {
  goals(first: 5, after: $after, orderBy: {field: $field, direction: DESC}) { totalCount }
}
"""
REFUSED = "`after` is not a cursor this list gave out in this order."
CLEAR = (
    REFUSED,
    "Text cannot contain the NUL character (U+0000).",
    "Text cannot contain a lone surrogate (U+D800 to U+DFFF); send UTF-8 text.",
)


async def gql(client, token: str, query: str, variables: dict, **_) -> dict:
    """Like the client of the contract, but JSON-escaped, so lone surrogates travel as
    \\ud800 escapes the way a browser's JSON.stringify sends them."""
    response = await client.post(
        "/graphql",
        content=json.dumps({"query": query, "variables": variables}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def _cursor(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode("utf-8", "surrogatepass")).decode()


def _goal_cursor(field: str, value: object, pk: int = 1) -> str:
    return _cursor(json.dumps([field, True, value, pk]))


@pytest.mark.parametrize(
    ("field", "cursor"),
    [
        ("PROGRESS", _goal_cursor("PROGRESS", "1E+1000000")),
        ("PROGRESS", _goal_cursor("PROGRESS", "1E-1000000")),
        ("PROGRESS", _goal_cursor("PROGRESS", "sNaN")),
        ("NAME", _goal_cursor("NAME", "a\x00b")),
        ("NAME", _goal_cursor("NAME", "a\ud800b")),
        ("CREATED_AT", _goal_cursor("CREATED_AT", "0001-01-01T00:00:00+14:00")),
        ("CREATED_AT", _goal_cursor("CREATED_AT", "9999-12-31T23:59:59-14:00")),
        ("CREATED_AT", _goal_cursor("CREATED_AT", "2026-01-01T00:00:00")),
        ("START_DATE", _goal_cursor("START_DATE", "2026-02-30")),
        ("NAME", _cursor("[" * 100_000 + "]" * 100_000)),
        ("NAME", _cursor('["NAME", true, ' + "[" * 1000 + "]" * 1000 + ", 1]")),
        ("NAME", "\ud800"),
        ("NAME", "\x00"),
    ],
    ids=[
        "huge-percent",
        "tiny-percent",
        "nan-percent",
        "nul-name",
        "surrogate-name",
        "instant-before-year-1",
        "instant-after-9999",
        "naive-instant",
        "no-such-day",
        "deep-json",
        "deep-value",
        "surrogate-cursor",
        "nul-cursor",
    ],
)
async def test_a_forged_goal_cursor_is_a_clear_error(client, field, cursor) -> None:
    tenant = await make_tenant()
    body = await gql(
        client,
        tenant.admin_token,
        CURSOR_QUERY,
        {"after": cursor, "field": field},
        expect_errors=True,
    )
    assert body["errors"][0]["message"] in CLEAR


async def test_a_cursor_given_out_still_pages(client) -> None:
    tenant = await make_tenant()
    cursor = _goal_cursor("PROGRESS", "12.50")
    body = await gql(
        client, tenant.admin_token, CURSOR_QUERY, {"after": cursor, "field": "PROGRESS"}
    )
    assert body["data"]["goals"]["totalCount"] == 0


@pytest.mark.parametrize(
    "cursor", ["\ud800", "x" * 100_000, _cursor("offset:" + "9" * 50), _cursor("[" * 50_000)]
)
async def test_a_forged_offset_cursor_is_a_clear_error(client, cursor) -> None:
    tenant = await make_tenant()
    body = await gql(
        client,
        tenant.admin_token,
        "query($a: String) { users(first: 5, after: $a) { totalCount } }",
        {"a": cursor},
        expect_errors=True,
    )
    message = body["errors"][0]["message"]
    assert not message.startswith("Unexpected error"), message


async def test_distinct_unknown_ids_are_each_not_found(client) -> None:
    tenant = await make_tenant()
    ids = ["not-an-id", "also-not-one", to_global_id("Goal", 4242), "not-an-id", "", "R29hbDo"]
    result = (await op(client, tenant.admin_token, "DeleteGoals", {"ids": ids}))["deleteGoals"]
    assert result["deletedIds"] == []
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
        (["ids", "0"], "NOT_FOUND"),
        (["ids", "1"], "NOT_FOUND"),
        (["ids", "2"], "NOT_FOUND"),
        (["ids", "3"], "DUPLICATE"),
        (["ids", "4"], "NOT_FOUND"),
        (["ids", "5"], "NOT_FOUND"),
    ]
