"""Webhook POSTs, signed with the account's secret.

A webhook URL is chosen by a customer, so the request must not become a way into our own
network: https only, the name resolved here, every address it resolves to checked to be public,
and the connection made to the checked address (TLS still verifies the name), no proxies, no
redirects. GOALS_WEBHOOK_ALLOW_PRIVATE lifts the address and scheme rules for development."""

import asyncio
import hashlib
import hmac
import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from typing import Any

import httpx

from domain.global_ids import encode_global_id
from domain.models import Notification
from domain.notification_messages import summary
from domain.settings import Settings
from domain.webhook_addresses import is_public_address
from workers.channels import PermanentDeliveryError

RETRYABLE_STATUSES = frozenset({408, 425, 429})


class WebhookRejected(Exception):
    """The receiver answered with an error worth retrying (5xx, 408, 429)."""


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    url: httpx.URL  # with the checked address in place of the name
    host: str  # the name, for the Host header and TLS
    host_header: str


is_public = is_public_address


async def resolve_target(url: str, *, allow_private: bool) -> WebhookTarget:
    """Check ``url`` and pin the address to connect to; PermanentDeliveryError when refused."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as error:
        raise PermanentDeliveryError(f"The webhook URL is not a URL: {error}") from error
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise PermanentDeliveryError("The webhook URL must be an http(s) URL.")
    if parsed.scheme != "https" and not allow_private:
        raise PermanentDeliveryError("Webhooks are only sent to https URLs.")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parsed.host, port, type=socket.SOCK_STREAM
        )
    except socket.gaierror as error:
        # Name resolution fails transiently too: let the delivery retry.
        raise OSError(f"Cannot resolve {parsed.host}: {error}") from error
    addresses = list(dict.fromkeys(ipaddress.ip_address(str(i[4][0]).split("%")[0]) for i in infos))
    if not addresses:
        raise OSError(f"{parsed.host} resolves to no address.")
    if not allow_private:
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise PermanentDeliveryError(
                f"The webhook host {parsed.host} resolves to a private address ({refused[0]})."
            )
    address = addresses[0]
    host_header = parsed.host if parsed.port is None else f"{parsed.host}:{parsed.port}"
    return WebhookTarget(
        url=parsed.copy_with(host=str(address)), host=parsed.host, host_header=host_header
    )


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def webhook_body(notification: Notification) -> dict[str, Any]:
    payload = notification.payload
    goal = payload.get("goal") or {}
    recipient = notification.recipient
    return {
        "id": encode_global_id("Notification", notification.id),
        "kind": str(notification.kind),
        "createdAt": notification.created_at.isoformat(),
        "message": summary(notification.kind, payload),
        "recipient": {
            "id": encode_global_id("User", recipient.id),
            "email": recipient.email,
            "name": recipient.name,
        },
        "goal": {"id": encode_global_id("Goal", goal["id"]), "name": goal.get("name")}
        if goal.get("id") is not None
        else None,
        "contributorGoalId": encode_global_id("ContributorGoal", notification.contributor_goal_id)
        if notification.contributor_goal_id is not None
        else None,
        "milestoneIndex": notification.milestone_index,
        "data": payload,
    }


async def send(
    notification: Notification,
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> None:
    account = notification.account
    if not account.webhook_url:
        raise PermanentDeliveryError("The account has no webhook URL any more.")
    target = await resolve_target(account.webhook_url, allow_private=settings.webhook_allow_private)
    body = json.dumps(webhook_body(notification), separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": "goals-webhook/1",
        "X-Goals-Timestamp": timestamp,
        # The same for every attempt of this notification: receivers can drop repeats.
        "X-Goals-Delivery": encode_global_id("Notification", notification.id),
    }
    if account.webhook_secret:
        headers["X-Goals-Signature"] = signature(account.webhook_secret, timestamp, body)
    extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
    async with (
        httpx.AsyncClient(
            timeout=settings.webhook_timeout_seconds,
            follow_redirects=False,
            trust_env=False,
            transport=transport,
        ) as client,
        # Only the status matters: the response body is never read, whatever its size.
        client.stream(
            "POST", target.url, content=body, headers=headers, extensions=extensions
        ) as response,
    ):
        status = response.status_code
    if 200 <= status < 300:
        return
    if 300 <= status < 400:
        raise PermanentDeliveryError(f"The webhook answered {status}; redirects are not followed.")
    if status >= 500 or status in RETRYABLE_STATUSES:
        raise WebhookRejected(f"The webhook answered {status}.")
    raise PermanentDeliveryError(f"The webhook answered {status}.")
