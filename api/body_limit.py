"""Request bodies are read whole before anything parses them, so their size is bounded first:
over GOALS_MAX_BODY_BYTES the answer is 413 without reading the rest, whether the client
declared a Content-Length or streams chunks."""

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.common.errors import refusal


class LimitBody:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, message: str
    ) -> None:
        # The rest of the body is not read: the connection closes after the answer.
        await refusal(status, message, headers={"Connection": "close"})(scope, receive, send)

    def _too_large(self) -> str:
        return f"The request body is larger than {self.max_bytes:,} bytes (GOALS_MAX_BODY_BYTES)."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or len(declared) > 18:
                await self._refuse(
                    scope, receive, send, 400, "The Content-Length header is not a number."
                )
                return
            if int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send, 413, self._too_large())
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send, 413, self._too_large())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
