"""The Starlette application: /graphql (GraphiQL on GET), /exports/goals.csv, /healthz, /readyz
and /metrics."""

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import orjson
import redis.asyncio as aioredis
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL
from tortoise import connections

from api.auth import RequireToken
from api.body_limit import LimitBody
from api.common.errors import refusal
from api.context import Context
from api.graphiql import ASSETS_DIR, ASSETS_PATH, graphiql_html
from api.insight.exports import export_goals
from api.observability import RequestIdMiddleware, configure_logging, metrics
from api.response_cache import AnswerStore, ResponseCache
from api.schema import build_schema
from domain.db import close_db, init_db
from domain.settings import Settings, get_settings


class GoalsGraphQL(GraphQL[Context, None]):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """As Strawberry's, but a request refused before it runs (a body that is not a JSON
        object, a wrong method or content type) is answered in JSON like every other error,
        not in plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as error:
            response = refusal(error.status_code, error.reason)
        await response(scope, receive, send)

    @property
    def graphql_ide_html(self) -> str:
        return GRAPHIQL_HTML

    def decode_json(self, data: str | bytes) -> object:
        """A request body is a JSON object; anything else, or JSON nested too deeply to read,
        is the client's mistake (400), not ours."""
        try:
            decoded = json.loads(data)
        except RecursionError:
            raise HTTPException(400, "The request body is nested too deeply.") from None
        except UnicodeDecodeError:
            raise HTTPException(400, "The request body is not UTF-8.") from None
        if not isinstance(decoded, dict):
            raise HTTPException(400, "The request body must be a JSON object.")
        return decoded

    def encode_json(self, data: object) -> str | bytes:
        """The same compact JSON, in UTF-8, several times faster than the standard library (a
        dashboard page is 70 KB of it); what orjson refuses, such as a lone surrogate in a
        string, is encoded as before."""
        try:
            return orjson.dumps(data)
        except TypeError:
            return super().encode_json(data)

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        # Only the GraphiQL page passes RequireToken without a viewer, and it runs no operation.
        viewer = request.scope.get("state", {}).get("viewer")
        return Context(request=request, response=response, viewer=viewer)


GRAPHIQL_HTML = graphiql_html()


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready while the database answers. Without Redis the API still serves (notifications wait
    in the outbox and workers reconnect), so Redis only shows as degraded."""
    settings: Settings = request.app.state.settings
    checks: dict[str, str] = {}
    try:
        await connections.get("default").execute_query("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"error: {type(error).__name__}"
    if settings.redis_url:
        client = aioredis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
        try:
            await client.ping()
            checks["redis"] = "ok"
        except Exception as error:  # noqa: BLE001
            checks["redis"] = f"degraded: {type(error).__name__}"
        finally:
            await client.aclose()
    else:
        checks["redis"] = "not configured"
    return JSONResponse(checks, status_code=200 if checks["database"] == "ok" else 503)


def create_app(
    settings: Settings | None = None,
    *,
    manage_db: bool = True,
    while_serving: Callable[[Settings], AbstractAsyncContextManager[None]] | None = None,
) -> Starlette:
    """``manage_db=False`` leaves Tortoise to the caller (tests, `goals dev`). ``while_serving``
    is entered for the app's lifetime: the composition root (``api.cli.app``) passes the job queues
    that hand notifications and refreshes to the workers; without it nothing is queued, and
    the workers' sweep and daily refresh catch up."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    graphql: ASGIApp = GoalsGraphQL(
        build_schema(settings), graphql_ide="graphiql" if settings.graphiql else None
    )
    answers = None
    if settings.response_cache:
        answers = AnswerStore(settings.response_cache_entries, settings.response_cache_bytes)
        graphql = ResponseCache(graphql, answers)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if manage_db:
            await init_db(settings.database_url)
        try:
            if while_serving is None:
                yield
            else:
                async with while_serving(settings):
                    yield
        finally:
            if manage_db:
                await close_db()

    app = Starlette(
        routes=[
            Route(
                "/graphql",
                RequireToken(LimitBody(graphql, settings.max_body_bytes)),
                methods=["GET", "POST"],
            ),
            Route("/exports/goals.csv", export_goals, methods=["GET"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="graphiql-assets"),
        ],
        middleware=[Middleware(RequestIdMiddleware)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.response_cache = answers
    return app
