"""Real parts for delivery tests: what the SMTP server (aiosmtpd) and the HTTP receiver (uvicorn)
of conftest.py record, arq workers in burst mode, and the settings they deliver with."""

import asyncio
import email
import email.policy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from types import SimpleNamespace
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from arq.connections import RedisSettings
from arq.worker import Worker
from starlette.requests import Request
from starlette.responses import Response

from domain.settings import Settings
from workers import delivery

# ---------------------------------------------------------------- SMTP


@dataclass
class Inbox:
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    # Answers DATA with ``refusal`` this many times before accepting.
    refuse_next: int = 0
    refusal: str = "451 4.3.0 Mailbox busy, try again later"
    attempts: int = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.attempts += 1
        if self.refuse_next > 0:
            self.refuse_next -= 1
            return self.refusal
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def to(self) -> list[str]:
        return sorted(str(m["To"]) for m in self.messages)


# ---------------------------------------------------------------- HTTP


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    port: int = 0
    requests: list[Received] = field(default_factory=list)
    # Status codes to answer with, in order; 200 once they run out.
    statuses: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def handle(self, request: Request) -> Response:
        self.requests.append(
            Received(request.url.path, dict(request.headers), await request.body())
        )
        status = self.statuses.pop(0) if self.statuses else 200
        if 300 <= status < 400:
            return Response(status_code=status, headers={"Location": "/elsewhere"})
        return Response(status_code=status)


# ---------------------------------------------------------------- workers


def delivery_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": "unused",
        "smtp_host": None,
        "webhook_allow_private": True,
        "delivery_max_attempts": 4,
        "public_url": "https://goals.example.com",
        "mail_from": "goals@example.com",
    }
    values.update(overrides)
    return Settings(**values)


def worker_ctx(settings: Settings) -> dict[str, Any]:
    """A short backoff keeps retries within a test's seconds."""
    return {"settings": settings, "delivery_backoff_seconds": 0.05}


async def run_workers(redis_url: str, settings: Settings, *, count: int = 1) -> None:
    """``count`` arq workers draining the queue together, in burst mode (they stop when it is
    empty, deferred retries included)."""
    workers = [
        Worker(
            functions=delivery.FUNCTIONS,
            redis_settings=RedisSettings.from_dsn(redis_url),
            burst=True,
            poll_delay=0.02,
            handle_signals=False,
            ctx=worker_ctx(settings),
            max_jobs=8,
        )
        for _ in range(count)
    ]
    try:
        await asyncio.wait_for(asyncio.gather(*(w.main() for w in workers)), timeout=30)
    finally:
        for worker in workers:
            await worker.close()


async def arq_pool(redis_url: str) -> Any:
    from arq.connections import create_pool

    return await create_pool(RedisSettings.from_dsn(redis_url))


class WebhookRow:
    """Stands in for a webhook notification row with its account and recipient loaded."""

    id = 7
    kind = "GOAL_ASSIGNED"
    milestone_index = None
    contributor_goal_id = 3
    payload = {"goal": {"id": 5, "name": "G", "unit": "COUNT"}, "target": "1"}
    created_at = datetime(2026, 1, 1, tzinfo=UTC)

    def __init__(self, webhook_url: str) -> None:
        self.account = SimpleNamespace(
            webhook_url=webhook_url, webhook_secret="a-long-shared-secret"
        )
        self.recipient = SimpleNamespace(id=2, email="ana@acme.test", name="Ana")
