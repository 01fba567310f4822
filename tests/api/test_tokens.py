"""API tokens: created for yourself (or by admins for others), listed, used and revoked."""

from datetime import UTC, datetime

from api.ids import to_global_id
from domain.models import ApiToken
from domain.tokens import hash_token
from tests.helpers import gql, make_tenant, op

CREATE = """
mutation ($input: CreateApiTokenInput!) {
  createApiToken(input: $input) {
    token
    apiToken { id name createdAt lastUsedAt user { email } }
    userErrors { field code message }
  }
}
"""
REVOKE = """
mutation ($id: ID!) {
  revokeApiToken(id: $id) { revokedId userErrors { field code message } }
}
"""
LIST = """
query ($userId: ID) { apiTokens(userId: $userId) { id name lastUsedAt } }
"""


def errors_of(payload: dict) -> list[tuple[tuple[str, ...], str]]:
    return [(tuple(e["field"]), e["code"]) for e in payload["userErrors"]]


async def create(client, token, **fields) -> dict:
    return (await gql(client, token, CREATE, {"input": fields}))["data"]["createApiToken"]


async def revoke(client, token, gid) -> dict:
    return (await gql(client, token, REVOKE, {"id": gid}))["data"]["revokeApiToken"]


async def viewer_status(client, token) -> int:
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { email } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.status_code


async def test_api_tokens_operation_verbatim(client):
    tenant = await make_tenant()
    data = await op(client, tenant.admin_token, "ApiTokens")
    created = data["createApiToken"]
    assert created["userErrors"] == []
    assert created["apiToken"]["name"] == "ci"
    assert created["apiToken"]["lastUsedAt"] is None
    # The literal id of the shape names no token.
    assert data["revokeApiToken"] == {
        "revokedId": None,
        "userErrors": [
            {
                "field": ["id"],
                "code": "NOT_FOUND",
                "message": data["revokeApiToken"]["userErrors"][0]["message"],
            }
        ],
    }
    new_token = created["token"]
    viewer = await gql(client, new_token, "{ viewer { email } }")
    assert viewer["data"]["viewer"]["email"] == "admin@acme.test"
    # Only the hash is stored.
    row = await ApiToken.get(name="ci")
    assert row.token_hash == hash_token(new_token) and new_token not in row.token_hash


async def test_last_used_at_is_set_after_use(client):
    tenant = await make_tenant()
    created = await create(client, tenant.admin_token, name="script")
    assert created["apiToken"]["lastUsedAt"] is None
    before = datetime.now(UTC)
    assert await viewer_status(client, created["token"]) == 200
    listed = (await gql(client, created["token"], LIST))["data"]["apiTokens"]
    mine = next(t for t in listed if t["name"] == "script")
    used_at = datetime.fromisoformat(mine["lastUsedAt"])
    assert before <= used_at <= datetime.now(UTC)


async def test_a_revoked_token_gets_401(client):
    tenant = await make_tenant()
    await tenant.add_user("ana")
    created = await create(client, tenant.tokens["ana"], name="laptop")
    assert await viewer_status(client, created["token"]) == 200
    payload = await revoke(client, tenant.tokens["ana"], created["apiToken"]["id"])
    assert payload == {"revokedId": created["apiToken"]["id"], "userErrors": []}
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { email } }"},
        headers={"Authorization": f"Bearer {created['token']}"},
    )
    assert response.status_code == 401
    assert response.json()["data"] is None
    # Ana's other token still works; revoking again is harmless.
    assert await viewer_status(client, tenant.tokens["ana"]) == 200
    again = await revoke(client, tenant.tokens["ana"], created["apiToken"]["id"])
    assert again["userErrors"] == []
    listed = (await gql(client, tenant.tokens["ana"], LIST))["data"]["apiTokens"]
    assert [t["name"] for t in listed] == ["test"]


async def test_admins_create_and_revoke_tokens_for_others(client):
    tenant = await make_tenant()
    ana = await tenant.add_user("ana")
    created = await create(
        client, tenant.admin_token, name="for ana", userId=to_global_id("User", ana.id)
    )
    assert created["userErrors"] == []
    assert created["apiToken"]["user"]["email"] == "ana@acme.test"
    viewer = await gql(client, created["token"], "{ viewer { email } }")
    assert viewer["data"]["viewer"]["email"] == "ana@acme.test"
    listed = await gql(client, tenant.admin_token, LIST, {"userId": to_global_id("User", ana.id)})
    assert sorted(t["name"] for t in listed["data"]["apiTokens"]) == ["for ana", "test"]
    payload = await revoke(client, tenant.admin_token, created["apiToken"]["id"])
    assert payload["userErrors"] == []
    assert await viewer_status(client, created["token"]) == 401


async def test_members_cannot_touch_other_users_tokens(client):
    tenant = await make_tenant()
    ana = await tenant.add_user("ana")
    await tenant.add_user("bob")
    for_ana = await create(
        client, tenant.tokens["bob"], name="sneaky", userId=to_global_id("User", ana.id)
    )
    assert for_ana["token"] is None
    assert errors_of(for_ana) == [(("input", "userId"), "NOT_FOUND")]
    anas_token = await ApiToken.get(user_id=ana.id)
    payload = await revoke(client, tenant.tokens["bob"], to_global_id("ApiToken", anas_token.id))
    assert errors_of(payload) == [(("id",), "NOT_FOUND")]
    assert await viewer_status(client, tenant.tokens["ana"]) == 200
    listed = await gql(client, tenant.tokens["bob"], LIST, {"userId": to_global_id("User", ana.id)})
    assert listed["data"]["apiTokens"] == []
    assert await ApiToken.filter(user_id=ana.id).count() == 1


async def test_a_second_accounts_users_and_tokens_are_not_found(client):
    tenant = await make_tenant()
    other = await make_tenant("Globex")
    foreign = await create(
        client, tenant.admin_token, name="x", userId=to_global_id("User", other.admin.id)
    )
    assert errors_of(foreign) == [(("input", "userId"), "NOT_FOUND")]
    wrong_type = await create(
        client, tenant.admin_token, name="x", userId=to_global_id("Team", tenant.admin.id)
    )
    assert errors_of(wrong_type) == [(("input", "userId"), "NOT_FOUND")]
    their_token = await ApiToken.get(user_id=other.admin.id)
    payload = await revoke(client, tenant.admin_token, to_global_id("ApiToken", their_token.id))
    assert errors_of(payload) == [(("id",), "NOT_FOUND")]
    assert await viewer_status(client, other.admin_token) == 200
    assert await ApiToken.filter(user_id=other.admin.id).count() == 1


async def test_token_names_and_inactive_users_are_checked(client):
    tenant = await make_tenant()
    gone = await tenant.add_user("gone", active=False)
    blank = await create(client, tenant.admin_token, name="   ")
    assert errors_of(blank) == [(("input", "name"), "INVALID")]
    long = await create(client, tenant.admin_token, name="n" * 201)
    assert errors_of(long) == [(("input", "name"), "INVALID")]
    inactive = await create(
        client, tenant.admin_token, name="x", userId=to_global_id("User", gone.id)
    )
    assert errors_of(inactive) == [(("input", "userId"), "INVALID")]
    assert await ApiToken.filter(account_id=tenant.account.id).count() == 2
