"""Answers to repeated queries from memory, without running them again.

A cached answer is keyed by everything it depends on:

- the account's data version, read with the token (one statement: domain/tokens.py), which
  moves in the transaction of every write that can change an answer (domain/data_version.py),
  so an answer computed by any process before a write is never found after it;
- the viewer and the parts of their row that decide what they see (admin, goal permission,
  seat); the rest of their reach (team memberships) is account data, so the version covers it;
- the account's local date, which statuses and pace depend on; the request runs with that same
  date, so an answer computed across midnight is kept under the date it was computed for;
- the document's SHA-256, the operation name and the variables as canonical JSON.

Only answers to queries that ran without errors are kept (``MarkCacheable`` decides, after
execution), and never those that select a token's ``lastUsedAt`` (through ``apiTokens`` or
``node``): it moves on use without moving the version. The store is a least-recently-used map
bounded in entries and in bytes; entries of old versions are never found again and age out.
"""

import asyncio
import datetime
import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from graphql import DocumentNode, FieldNode
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from domain.models import User
from domain.windows import local_date

# Fields whose answers are never kept (see the module's docstring).
UNCACHED_FIELDS = frozenset({"lastUsedAt"})
# Set in the request's state by MarkCacheable when the answer may be kept.
CACHEABLE = "response_cache_ok"
# What the store counts for an entry besides its body: key, headers and bookkeeping.
ENTRY_OVERHEAD = 512
REQUEST_KEYS = frozenset({"query", "variables", "operationName"})

Key = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    @property
    def size(self) -> int:
        return len(self.body) + ENTRY_OVERHEAD


class AnswerStore:
    """A least-recently-used map of answers, at most ``max_entries`` and ``max_bytes``."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._answers: OrderedDict[Key, CachedAnswer] = OrderedDict()

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, key: Key) -> CachedAnswer | None:
        answer = self._answers.get(key)
        if answer is not None:
            self._answers.move_to_end(key)
        return answer

    def put(self, key: Key, answer: CachedAnswer) -> None:
        if answer.size > self.max_bytes or self.max_entries < 1:
            return
        previous = self._answers.pop(key, None)
        if previous is not None:
            self.bytes -= previous.size
        self._answers[key] = answer
        self.bytes += answer.size
        while len(self._answers) > self.max_entries or self.bytes > self.max_bytes:
            _, evicted = self._answers.popitem(last=False)
            self.bytes -= evicted.size


def _selected_fields(document: DocumentNode) -> Iterator[str]:
    """The names of every field the document selects, in operations and fragments."""
    pending = [definition.selection_set for definition in document.definitions]  # type: ignore[attr-defined]
    while pending:
        selection_set = pending.pop()
        if selection_set is None:
            continue
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection.name.value
            pending.append(getattr(selection, "selection_set", None))


class MarkCacheable(SchemaExtension):
    """Once the operation has its answer: marks it as one the cache may keep. The first
    extension of the schema, so its end sees the errors every other one added."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        result = context.result
        document = context.graphql_document
        if (
            document is None
            or result is None
            or result.errors
            or context.pre_execution_errors
            or context.operation_type is not OperationType.QUERY
            or any(name in UNCACHED_FIELDS for name in _selected_fields(document))
        ):
            return
        request = getattr(context.context, "request", None)
        if request is not None:
            request.scope.setdefault("state", {})[CACHEABLE] = True


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _operation(scope: Scope, body: bytes) -> tuple[str, str | None, str] | None:
    """(document, operation name, canonical variables) of a plain GraphQL request, or None
    for anything else (the endpoint then answers it as usual)."""
    headers = dict(scope.get("headers") or [])
    if b"multipart" in headers.get(b"accept", b""):
        return None
    if scope["method"] == "GET":
        params = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if set(params) - REQUEST_KEYS:
            return None
        try:
            variables = json.loads(params["variables"]) if "variables" in params else None
        except ValueError:
            return None
        request: Any = {**params, "variables": variables}
    else:
        if not headers.get(b"content-type", b"").startswith(b"application/json"):
            return None
        try:
            request = json.loads(body)
        except (ValueError, RecursionError):
            return None
        if not isinstance(request, dict) or set(request) - REQUEST_KEYS:
            return None
    query = request.get("query")
    name = request.get("operationName")
    if not isinstance(query, str) or not (name is None or isinstance(name, str)):
        return None
    try:
        return query, name, _canonical(request.get("variables"))
    except (TypeError, ValueError, RecursionError):
        return None


def account_today(timezone: str) -> datetime.date:
    """Today in the account's timezone, which the answer's statuses and pace depend on."""
    return local_date(datetime.datetime.now(datetime.UTC), ZoneInfo(timezone))


def answer_key(
    viewer: User, today: datetime.date, query: str, name: str | None, variables: str
) -> Key:
    account = viewer.account
    return (
        account.id,
        account.data_version,
        viewer.id,
        viewer.is_admin,
        str(viewer.goal_permission),
        str(viewer.seat),
        today,
        hashlib.sha256(query.encode("utf-8", "surrogatepass")).digest(),
        name,
        variables,
    )


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    return b"".join(m.get("body", b"") for m in messages), messages


async def _send_answer(send: Send, answer: CachedAnswer) -> None:
    await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
    await send({"type": "http.response.body", "body": answer.body})


class ResponseCache:
    """In front of the GraphQL endpoint, behind the token check (the viewer is in the scope).

    Requests that miss on a key another request is already computing wait for its answer
    instead of running the same operation again (after a write, a dashboard's viewers all miss
    at once); if that answer may not be kept, each runs its own."""

    def __init__(self, app: ASGIApp, store: AnswerStore) -> None:
        self.app = app
        self.store = store
        self._running: dict[Key, asyncio.Future[CachedAnswer | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.get("state") or {}
        viewer: User | None = state.get("viewer")
        if scope["type"] != "http" or viewer is None or scope["method"] not in ("GET", "POST"):
            await self.app(scope, receive, send)
            return
        body, messages = await _read_body(receive) if scope["method"] == "POST" else (b"", [])

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        operation = _operation(scope, body)
        if operation is None:
            await self.app(scope, replay, send)
            return
        today = account_today(viewer.account.timezone)
        key = answer_key(viewer, today, *operation)
        cached = self.store.get(key)
        running = self._running.get(key)
        if cached is None and running is not None:
            cached = await asyncio.shield(running)
        if cached is not None:
            await _send_answer(send, cached)
            return
        # The operation runs with the date the key holds (api/goals/types.py: local_today).
        state["goals_today"] = today
        if running is not None:
            await self.app(scope, replay, send)
            return
        future: asyncio.Future[CachedAnswer | None] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            answer = await self._run(scope, replay, send)
            if answer is not None:
                self.store.put(key, answer)
            future.set_result(answer)
        finally:
            if not future.done():
                future.set_result(None)
            del self._running[key]

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> CachedAnswer | None:
        """Runs the request; its answer when the cache may keep it."""
        start: Message = {}
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, keep)
        if scope["state"].get(CACHEABLE) and start.get("status") == 200:
            return CachedAnswer(200, list(start.get("headers", [])), b"".join(chunks))
        return None
