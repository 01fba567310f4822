"""Bearer-token authentication in front of the GraphQL endpoint."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.common.errors import refusal
from domain.tokens import authenticate


def _wants_ide(request: Request) -> bool:
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
    )


def unauthorized(message: str) -> Response:
    return refusal(
        401, message, code="UNAUTHENTICATED", headers={"WWW-Authenticate": 'Bearer realm="goals"'}
    )


class RequireToken:
    """Answers 401 unless ``Authorization: Bearer <token>`` names a live token of an active user.

    The GraphiQL page itself is served without a token; its requests carry one.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if _wants_ide(request) or request.method == "OPTIONS":
            await self.app(scope, receive, send)
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            await unauthorized("Send an API token: `Authorization: Bearer <token>`.")(
                scope, receive, send
            )
            return
        viewer = await authenticate(token.strip())
        if viewer is None:
            await unauthorized("The API token is unknown, revoked or belongs to an inactive user.")(
                scope, receive, send
            )
            return
        scope.setdefault("state", {})["viewer"] = viewer
        await self.app(scope, receive, send)
