"""A webhook receiver cannot hold a worker, and the addresses refused at delivery are refused
when the URL is saved."""

import asyncio
import ipaddress
import time

import pytest

from domain.webhook_addresses import is_public_address, private_host_problem
from tests.helpers import make_tenant, update_account_settings
from tests.workers.notification_support import WebhookRow, delivery_settings
from workers.channels import webhook as webhook_channel

ENDLESS_LIMIT = 256 * 1024 * 1024


async def test_a_receiver_streaming_an_endless_body_does_not_hold_the_worker() -> None:
    served = 0
    closed = asyncio.Event()

    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
        try:
            while served < ENDLESS_LIMIT:
                writer.write(chunk)
                await writer.drain()
                served += 0x10000
        except (ConnectionError, OSError):
            pass
        finally:
            closed.set()
            writer.close()

    server = await asyncio.start_server(endless, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    row = WebhookRow(f"http://127.0.0.1:{port}/hook")
    try:
        started = time.perf_counter()
        await webhook_channel.send(row, delivery_settings())  # type: ignore[arg-type]
        took = time.perf_counter() - started
        await asyncio.wait_for(closed.wait(), 10)
    finally:
        server.close()
    assert took < 5
    # What the kernel buffers took before the worker hung up, not the 256 MB on offer.
    assert served < 32 * 1024 * 1024, served


@pytest.mark.parametrize(
    "url",
    [
        "https://127.1/hook",
        "https://0x7f000001/hook",
        "https://2130706433/hook",
        "https://0177.0.0.1/hook",
        "https://127.0.0.1./hook",
        "https://localhost./hook",
        "https://LOCALHOST/hook",
        "https://printer.local./hook",
        "https://[::1]/hook",
        "https://[64:ff9b::7f00:1]/hook",
        "https://[64:ff9b::a00:1]/hook",
        "https://[::ffff:7f00:1]/hook",
        "https://[2002:7f00:1::]/hook",
        "https://[fe80::1]/hook",
        "https://169.254.169.254/latest",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://10.0.0.1/hook",
    ],
)
async def test_private_webhook_hosts_are_refused_when_saved(client, url) -> None:
    tenant = await make_tenant()
    payload = await update_account_settings(
        client, tenant.admin_token, webhookUrl=url, webhookSecret="a-long-shared-secret"
    )
    assert payload["account"] is None
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == (["input", "webhookUrl"], "INVALID")


@pytest.mark.parametrize(
    "host",
    [
        "hooks.example.com",
        "93.184.216.34",
        "[2606:2800:220:1:248:1893:25c8:1946]",
        "[64:ff9b::5db8:d822]",
    ],
)
def test_public_hosts_pass_the_saving_rule(host) -> None:
    assert private_host_problem(host) is None


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("64:ff9b::7f00:1", False),
        ("64:ff9b:1::a00:1", False),
        ("2002:7f00:1::", False),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # Teredo for 127.0.0.1
        ("64:ff9b::5db8:d822", True),
    ],
)
def test_delivery_looks_inside_ipv6_wrappings(address, public) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public
    assert webhook_channel.is_public(ipaddress.ip_address(address)) is public
