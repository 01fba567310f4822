"""Account settings: admins change them; only admins read the webhook URL; nobody the secret."""

import httpx

from api.app import create_app
from domain.enums import GoalPermission
from domain.models import Account
from domain.settings import Settings
from tests.helpers import gql, make_tenant, op, update_account_settings


def errors_of(payload: dict) -> list[tuple[tuple[str, ...], str]]:
    return [(tuple(e["field"]), e["code"]) for e in payload["userErrors"]]


async def test_update_account_settings_shape_verbatim(client):
    tenant = await make_tenant()
    data = await op(client, tenant.admin_token, "UpdateAccountSettingsShape")
    payload = data["updateAccountSettings"]
    assert payload["userErrors"] == []
    assert {k: v for k, v in payload["account"].items() if k != "id"} == {
        "name": "Acme",
        "timezone": "Europe/Warsaw",
        "fiscalYearStartMonth": 4,
        "currency": "EUR",
        "webhookUrl": "https://hooks.example.com/goals",
    }
    stored = await Account.get(id=tenant.account.id)
    assert (stored.timezone, stored.fiscal_year_start_month, stored.currency) == (
        "Europe/Warsaw",
        4,
        "EUR",
    )
    assert stored.webhook_secret == "a-long-shared-secret"
    viewer = await op(client, tenant.admin_token, "Viewer")
    assert viewer["viewer"]["account"]["timezone"] == "Europe/Warsaw"


async def test_the_secret_cannot_be_read_back_and_the_url_only_by_admins(client):
    tenant = await make_tenant()
    await tenant.add_user("ana", permission=GoalPermission.ALL)
    await update_account_settings(
        client,
        tenant.admin_token,
        webhookUrl="https://hooks.example.com/x",
        webhookSecret="s" * 16,
    )
    fields = await gql(
        client, tenant.admin_token, '{ __type(name: "Account") { fields { name } } }'
    )
    names = {f["name"] for f in fields["data"]["__type"]["fields"]}
    assert "webhookUrl" in names
    assert not any("secret" in name.lower() for name in names)
    query = "{ viewer { account { webhookUrl } } }"
    admin = await gql(client, tenant.admin_token, query)
    assert admin["data"]["viewer"]["account"]["webhookUrl"] == "https://hooks.example.com/x"
    member = await gql(client, tenant.tokens["ana"], query)
    assert member["data"]["viewer"]["account"]["webhookUrl"] is None


async def test_omitted_fields_stay_and_null_resets_the_refresh_hour(client):
    tenant = await make_tenant()
    first = await update_account_settings(client, tenant.admin_token, refreshHour=5, currency="pln")
    assert first["account"]["refreshHour"] == 5
    assert first["account"]["currency"] == "PLN"
    second = await update_account_settings(
        client, tenant.admin_token, name="  Acme Corp  ", refreshHour=None
    )
    assert second["userErrors"] == []
    assert second["account"] == {
        "name": "Acme Corp",
        "timezone": "UTC",
        "fiscalYearStartMonth": 1,
        "currency": "PLN",
        "webhookUrl": None,
        "refreshHour": None,
    }


async def test_every_invalid_field_is_reported_and_nothing_changes(client):
    tenant = await make_tenant()
    payload = await update_account_settings(
        client,
        tenant.admin_token,
        name="",
        timezone="Mars/Olympus_Mons",
        fiscalYearStartMonth=13,
        currency="EURO",
        webhookUrl="ftp://hooks.example.com",
        webhookSecret="short",
        refreshHour=24,
    )
    assert payload["account"] is None
    assert errors_of(payload) == [
        (("input", "name"), "INVALID"),
        (("input", "timezone"), "INVALID"),
        (("input", "fiscalYearStartMonth"), "INVALID"),
        (("input", "currency"), "INVALID"),
        (("input", "webhookUrl"), "INVALID"),
        (("input", "webhookSecret"), "INVALID"),
        (("input", "refreshHour"), "INVALID"),
    ]
    more = await update_account_settings(
        client, tenant.admin_token, fiscalYearStartMonth=0, currency="XXX", timezone="localtime"
    )
    assert errors_of(more) == [
        (("input", "timezone"), "INVALID"),
        (("input", "fiscalYearStartMonth"), "INVALID"),
        (("input", "currency"), "INVALID"),
    ]
    cleared = await update_account_settings(client, tenant.admin_token, name=None, timezone=None)
    assert errors_of(cleared) == [
        (("input", "name"), "REQUIRED"),
        (("input", "timezone"), "REQUIRED"),
    ]
    stored = await Account.get(id=tenant.account.id)
    assert (stored.name, stored.timezone, stored.fiscal_year_start_month, stored.currency) == (
        "Acme",
        "UTC",
        1,
        "USD",
    )
    assert stored.refresh_hour is None and stored.webhook_url is None


async def test_webhooks_need_public_https_and_a_secret(client):
    tenant = await make_tenant()
    rejected = [
        "http://hooks.example.com/goals",
        "https://localhost/goals",
        "https://127.0.0.1/goals",
        "https://10.1.2.3/goals",
        "https://[::1]/goals",
        "https://user:pass@hooks.example.com/goals",
        "/relative/path",
        "https://",
    ]
    for url in rejected:
        payload = await update_account_settings(
            client, tenant.admin_token, webhookUrl=url, webhookSecret="s" * 16
        )
        assert errors_of(payload) == [(("input", "webhookUrl"), "INVALID")], url
    no_secret = await update_account_settings(
        client, tenant.admin_token, webhookUrl="https://hooks.example.com"
    )
    assert errors_of(no_secret) == [(("input", "webhookSecret"), "REQUIRED")]
    ok = await update_account_settings(
        client,
        tenant.admin_token,
        webhookUrl="https://hooks.example.com",
        webhookSecret="x" * 500,
    )
    assert ok["userErrors"] == []
    # With a secret stored, the URL alone may change; null removes the webhook.
    moved = await update_account_settings(
        client, tenant.admin_token, webhookUrl="https://8.8.8.8/in"
    )
    assert moved["account"]["webhookUrl"] == "https://8.8.8.8/in"
    removed = await update_account_settings(client, tenant.admin_token, webhookUrl=None)
    assert removed["account"]["webhookUrl"] is None
    assert (await Account.get(id=tenant.account.id)).webhook_url is None


async def test_private_http_webhooks_when_the_setting_allows_them(db):
    app = create_app(
        Settings(database_url="unused", redis_url=None, webhook_allow_private=True),
        manage_db=False,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://goals.test"
    ) as client:
        tenant = await make_tenant()
        payload = await update_account_settings(
            client,
            tenant.admin_token,
            webhookUrl="http://127.0.0.1:8025/hook",
            webhookSecret="s" * 16,
        )
    assert payload["userErrors"] == []
    assert (await Account.get(id=tenant.account.id)).webhook_url == "http://127.0.0.1:8025/hook"


async def test_non_admins_cannot_change_settings(client):
    tenant = await make_tenant()
    await tenant.add_user("ana", permission=GoalPermission.ALL)
    payload = await update_account_settings(
        client, tenant.tokens["ana"], name="Mine now", timezone="Asia/Tokyo"
    )
    assert payload["account"] is None
    assert errors_of(payload) == [(("input",), "FORBIDDEN")]
    stored = await Account.get(id=tenant.account.id)
    assert (stored.name, stored.timezone) == ("Acme", "UTC")


async def test_settings_change_only_the_callers_account(client):
    tenant = await make_tenant()
    other = await make_tenant("Globex")
    await update_account_settings(client, tenant.admin_token, timezone="Asia/Tokyo")
    assert (await Account.get(id=other.account.id)).timezone == "UTC"
    assert (await Account.get(id=tenant.account.id)).timezone == "Asia/Tokyo"
