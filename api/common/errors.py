"""Errors meant for the client: shown as they are, never masked."""

from graphql import GraphQLError

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
