"""Errors meant for the client: shown as they are, never masked."""

from collections.abc import Mapping

from graphql import GraphQLError
from starlette.responses import JSONResponse

from domain.errors import Refused
from domain.models import User
from domain.permissions import AdminOnly, may


class PublicError(Refused):
    """An expected failure of a query (a bad page size, a limit): its message is for the client."""


def should_mask_error(error: GraphQLError) -> bool:
    """Mask only unexpected exceptions; validation, coercion and public errors stay visible."""
    original = error.original_error
    if original is None:
        return False
    return not isinstance(original, Refused | GraphQLError)


def admin_only(viewer: User, operation: AdminOnly) -> None:
    """A query refuses a non-admin with an error that says why; a command, with FORBIDDEN."""
    if not may(viewer, operation):
        raise PublicError(operation.value)


def refusal(
    status: int, message: str, *, code: str | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """An HTTP answer for a request refused before any operation runs, shaped like a GraphQL
    answer with one error, so that a client reads it as it reads every other error."""
    error: dict[str, object] = {"message": message}
    if code is not None:
        error["extensions"] = {"code": code}
    return JSONResponse({"data": None, "errors": [error]}, status_code=status, headers=headers)
