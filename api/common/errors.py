"""Errors meant for the client: shown as they are, never masked."""

from graphql import GraphQLError


class PublicError(Exception):
    """An expected failure of a query (a bad page size, a limit): its message is for the client."""


def should_mask_error(error: GraphQLError) -> bool:
    """Mask only unexpected exceptions; validation, coercion and public errors stay visible."""
    original = error.original_error
    if original is None:
        return False
    return not isinstance(original, PublicError | GraphQLError)
