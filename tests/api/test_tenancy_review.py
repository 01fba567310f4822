"""Tenancy and input bounds at the edges: ids too large to name a row, dates at the calendar's
ends, and objects of other accounts reached through nested fields."""

import base64

import pytest

from api.ids import to_global_id
from domain.enums import ObjectType
from tests.helpers import Tenant, gql, make_tenant, op

HUGE = 10**17


def huge(kind: str) -> str:
    return to_global_id(kind, HUGE)


def goal_input(tenant: Tenant, contributors: list[dict]) -> dict:
    return {
        "name": "Q1 tickets",
        "category": "SERVICE",
        "type": "CLOSED_TICKETS",
        "startDate": "2026-01-01",
        "endDate": "2026-06-30",
        "milestonePeriod": "QUARTERLY",
        "pipelineIds": [to_global_id("Pipeline", tenant.pipelines["inbox"].id)],
        "contributors": contributors,
    }


async def acme_with_goal(client) -> tuple[Tenant, dict]:
    acme = await make_tenant()
    await acme.add_user("ana")
    await acme.add_pipeline("inbox", ObjectType.TICKET)
    ana = to_global_id("User", acme.users["ana"].id)
    data = await op(
        client, acme.admin_token, "CreateGoal", {"input": goal_input(acme, [{"userId": ana}])}
    )
    assert data["createGoal"]["userErrors"] == []
    return acme, data["createGoal"]["goal"]


async def test_ids_too_large_for_a_row_are_unknown_everywhere(client):
    acme, goal = await acme_with_goal(client)
    token = acme.admin_token
    body = await gql(
        client,
        token,
        """query($goal: ID!, $user: ID!, $team: ID!, $pipeline: ID!) {
          goal(id: $goal) { id }
          apiTokens(userId: $user) { id }
          goals(filter: {userIds: [$user], teamIds: [$team], pipelineIds: [$pipeline]}) {
            totalCount
          }
        }""",
        {
            "goal": huge("Goal"),
            "user": huge("User"),
            "team": huge("Team"),
            "pipeline": huge("Pipeline"),
        },
    )
    assert body["data"] == {"goal": None, "apiTokens": [], "goals": {"totalCount": 0}}

    body = await gql(
        client,
        token,
        """mutation($user: ID!, $token: ID!, $notification: ID!) {
          createApiToken(input: {name: "x", userId: $user}) { userErrors { code } }
          revokeApiToken(id: $token) { userErrors { code } }
          markNotificationsRead(ids: [$notification]) { userErrors { code } }
        }""",
        {"user": huge("User"), "token": huge("ApiToken"), "notification": huge("Notification")},
    )
    data = body["data"]
    assert data["createApiToken"]["userErrors"] == [{"code": "NOT_FOUND"}]
    assert data["revokeApiToken"]["userErrors"] == [{"code": "NOT_FOUND"}]
    assert data["markNotificationsRead"]["userErrors"] == [{"code": "NOT_FOUND"}]


async def test_an_id_whose_number_is_not_ascii_digits_is_unknown(client):
    acme, _ = await acme_with_goal(client)
    superscript = base64.urlsafe_b64encode("Goal:\u00b2".encode()).decode()
    body = await gql(
        client, acme.admin_token, "query($id: ID!) { goal(id: $id) { id } }", {"id": superscript}
    )
    assert body["data"] == {"goal": None}
    data = await op(client, acme.admin_token, "DeleteGoals", {"ids": [superscript]})
    assert [e["code"] for e in data["deleteGoals"]["userErrors"]] == ["NOT_FOUND"]


async def test_a_goals_cursor_with_an_impossible_id_is_refused_clearly(client):
    acme, _ = await acme_with_goal(client)
    for pk in (HUGE, -1):
        payload = f'["CREATED_AT",true,"2026-01-01T00:00:00+00:00",{pk}]'
        cursor = base64.urlsafe_b64encode(payload.encode()).decode()
        body = await gql(
            client,
            acme.admin_token,
            "query($after: String) { goals(after: $after) { totalCount } }",
            {"after": cursor},
            expect_errors=True,
        )
        assert body["data"] is None
        assert "cursor" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "dates",
    [{"from": "9999-12-30"}, {"to": "0001-01-02"}, {"from": "0001-01-01", "to": "0001-01-01"}],
)
async def test_history_at_the_ends_of_the_calendar_is_an_answer_not_a_crash(client, dates):
    acme, goal = await acme_with_goal(client)
    body = await gql(
        client,
        acme.admin_token,
        """query($id: ID!, $from: Date, $to: Date) {
          goal(id: $id) { contributors { history(from: $from, to: $to) { date } } }
        }""",
        {"id": goal["id"], **dates},
        expect_errors=True,
    )
    errors = body.get("errors") or []
    assert all("Unexpected" not in e["message"] for e in errors), errors


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [("9999-01-01", "9999-12-31", "endDate"), ("0001-01-01", "0001-12-31", "startDate")],
)
async def test_goal_dates_at_the_ends_of_the_calendar_are_refused_clearly(
    client, start, end, field
):
    acme, _ = await acme_with_goal(client)
    ana = to_global_id("User", acme.users["ana"].id)
    draft = {**goal_input(acme, [{"userId": ana}]), "startDate": start, "endDate": end}
    draft["alignToFiscalYear"] = True
    data = await op(client, acme.admin_token, "CreateGoal", {"input": draft})
    errors = data["createGoal"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [(["input", field], "INVALID")]

    body = await gql(
        client,
        acme.admin_token,
        """query($start: Date!, $end: Date!) {
          milestonePreview(startDate: $start, endDate: $end, milestonePeriod: YEARLY,
                           alignToFiscalYear: true) { index }
        }""",
        {"start": start, "end": end},
        expect_errors=True,
    )
    assert body["data"] is None
    assert "Goal dates lie between" in body["errors"][0]["message"]


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"])
async def test_a_record_timestamp_beyond_the_calendar_in_utc_is_invalid(client, instant):
    acme = await make_tenant()
    await acme.add_user("ana")
    await acme.add_pipeline("inbox", ObjectType.TICKET)
    item = {
        "externalId": "t-1",
        "pipelineExternalId": "ext-inbox",
        "ownerExternalId": "ext-ana",
        "createdAt": instant,
    }
    data = await op(client, acme.admin_token, "UpsertTickets", {"items": [item]})
    payload = data["upsertTickets"]
    assert payload["upsertedCount"] == 0
    errors = [(e["field"], e["code"]) for e in payload["userErrors"]]
    assert errors == [(["input", "items", "0", "createdAt"], "INVALID")]


async def test_text_with_a_nul_character_is_refused_clearly(client):
    acme, _ = await acme_with_goal(client)
    ana = to_global_id("User", acme.users["ana"].id)
    token = acme.admin_token
    by_variable = [
        (
            "query($s: String) { goals(filter: {search: $s}) { totalCount } }",
            {"s": "a\x00b"},
        ),
        (
            "mutation($i: CreateGoalInput!) { createGoal(input: $i) { userErrors { code } } }",
            {"i": {**goal_input(acme, [{"userId": ana}]), "name": "a\x00b"}},
        ),
    ]
    by_literal = [
        'mutation { createApiToken(input: {name: "a\\u0000b"}) { token } }',
        'mutation { upsertUsers(input: {items: [{externalId: "x\\u0000", email: "a@b.co", '
        'name: "n"}]}) { upsertedCount } }',
        'mutation { updateAccountSettings(input: {name: "a\\u0000b"}) { account { name } } }',
    ]
    for query, variables in [*by_variable, *((q, None) for q in by_literal)]:
        body = await gql(client, token, query, variables, expect_errors=True)
        assert body["data"] is None, body
        assert [e["message"] for e in body["errors"]] == [
            "Text cannot contain the NUL character (U+0000)."
        ]
    assert await acme.account.users.all().count() == 2
