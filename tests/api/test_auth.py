from tests.helpers import gql, make_tenant, op


async def test_viewer_with_token(client):
    tenant = await make_tenant()
    data = await op(client, tenant.admin_token, "Viewer")
    assert data["viewer"]["email"] == "admin@acme.test"
    assert data["viewer"]["account"]["name"] == "Acme"
    assert data["viewer"]["account"]["timezone"] == "UTC"


async def test_missing_or_unknown_token_is_401(client):
    await make_tenant()
    missing = await client.post("/graphql", json={"query": "{ viewer { id } }"})
    assert missing.status_code == 401
    assert missing.json()["data"] is None
    unknown = await gql(client, "gls_nope", "{ viewer { id } }", expect_errors=True)
    assert unknown["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
