"""Webhook delivery: signed POSTs to a real HTTP receiver on loopback, address checks, no
redirects, retries."""

import asyncio
import hashlib
import hmac
import ipaddress
import json
import socket
import time

import httpx
import pytest

from api.ids import to_global_id
from domain.enums import Channel, DeliveryState
from domain.models import Notification
from tests.helpers import make_tenant
from tests.notification_helpers import create_goal
from tests.workers.notification_support import (
    Receiver,
    WebhookRow,
    delivery_settings,
    run_workers,
)
from workers.channels import PermanentDeliveryError
from workers.channels import webhook as webhook_channel

NAME = "Call more customers"
SECRET = "a-long-shared-secret"


async def _tenant(webhook_url: str):
    tenant = await make_tenant()
    await tenant.add_user("ana")
    tenant.account.webhook_url = webhook_url
    tenant.account.webhook_secret = SECRET
    await tenant.account.save()
    return tenant


async def _webhook_rows() -> list[Notification]:
    return list(await Notification.filter(channel=Channel.WEBHOOK).order_by("id"))


async def _assign(client, tenant) -> None:
    await create_goal(
        client, tenant.admin_token, user_ids=[tenant.users["ana"].id], notify=["GOAL_ASSIGNED"]
    )


async def test_webhook_is_signed_with_the_account_secret(
    client, redis_url, dispatcher, webhook_receiver: Receiver
):
    tenant = await _tenant(webhook_receiver.url)
    await _assign(client, tenant)
    await run_workers(redis_url, delivery_settings())

    [request] = webhook_receiver.requests
    timestamp = request.headers["x-goals-timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(
        SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256
    ).hexdigest()
    assert request.headers["x-goals-signature"] == f"sha256={expected}"
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.body)
    [row] = await _webhook_rows()
    assert body["id"] == to_global_id("Notification", row.id)
    assert request.headers["x-goals-delivery"] == body["id"]
    assert body["kind"] == "GOAL_ASSIGNED"
    assert body["recipient"]["email"] == "ana@acme.test"
    assert body["goal"]["name"] == NAME
    assert body["message"] == (
        f"You were assigned the goal “{NAME}” (2026-01-01 to 2026-03-31) with a target of 60."
    )
    assert body["data"]["target"] == "60"
    assert (row.state, row.attempts) == (DeliveryState.SENT, 1)


async def test_server_errors_are_retried_until_the_receiver_accepts(
    client, redis_url, dispatcher, webhook_receiver: Receiver
):
    webhook_receiver.statuses = [503, 429]
    tenant = await _tenant(webhook_receiver.url)
    await _assign(client, tenant)
    await run_workers(redis_url, delivery_settings())

    assert len(webhook_receiver.requests) == 3
    assert len({r.headers["x-goals-delivery"] for r in webhook_receiver.requests}) == 1
    [row] = await _webhook_rows()
    assert (row.state, row.attempts) == (DeliveryState.SENT, 3)


async def test_redirects_are_not_followed(
    client, redis_url, dispatcher, webhook_receiver: Receiver
):
    webhook_receiver.statuses = [307]
    tenant = await _tenant(webhook_receiver.url)
    await _assign(client, tenant)
    await run_workers(redis_url, delivery_settings())

    assert [r.path for r in webhook_receiver.requests] == ["/hook"]
    [row] = await _webhook_rows()
    assert (row.state, row.attempts) == (DeliveryState.FAILED, 1)
    assert "307" in row.last_error


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("https://127.0.0.1:{port}/hook", "private address"),
        ("https://localhost:{port}/hook", "private address"),
        ("http://127.0.0.1:{port}/hook", "https"),
    ],
)
async def test_private_addresses_are_refused_without_the_setting(
    client, redis_url, dispatcher, webhook_receiver: Receiver, template: str, reason: str
):
    tenant = await _tenant(template.format(port=webhook_receiver.port))
    await _assign(client, tenant)
    await run_workers(redis_url, delivery_settings(webhook_allow_private=False))

    assert webhook_receiver.requests == []
    [row] = await _webhook_rows()
    assert (row.state, row.attempts) == (DeliveryState.FAILED, 1)
    assert reason in row.last_error


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fc00::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_public_addresses(address: str, public: bool):
    assert webhook_channel.is_public(ipaddress.ip_address(address)) is public


async def test_the_request_goes_to_the_checked_address_with_the_name_for_tls(monkeypatch):
    """DNS is asked once; the connection is made to the address that passed the check, so a
    second, different answer (DNS rebinding) cannot redirect it."""
    answers = iter(["93.184.216.34", "127.0.0.1"])

    async def getaddrinfo(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    await webhook_channel.send(
        WebhookRow("https://hooks.example.com:8443/goals"),  # type: ignore[arg-type]
        delivery_settings(webhook_allow_private=False),
        transport=httpx.MockTransport(respond),
    )
    [request] = seen
    assert request.url.host == "93.184.216.34"
    assert request.url.port == 8443
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"


async def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch):
    async def getaddrinfo(host, port, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port)),
        ]

    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    with pytest.raises(PermanentDeliveryError, match="10.0.0.5"):
        await webhook_channel.resolve_target("https://hooks.example.com/x", allow_private=False)
