"""How every mutation runs: the domain command either returns what it changed or raises
``ValidationFailed``, and the payload carries what changed or the problems that stopped it."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from api.common.types import user_errors
from api.context import Info
from domain.errors import ValidationFailed

Result = TypeVar("Result")
Payload = TypeVar("Payload")


async def run_mutation(
    info: Info,
    command: Awaitable[Result],
    payload: Callable[..., Payload],
    succeeded: Callable[[Result], Payload],
) -> Payload:
    """``succeeded(result)`` after the command ran, or ``payload(user_errors=...)`` with the
    other fields at their defaults when it refused.

    A change drops the request's cached loads, so the payload shows the new state.
    """
    try:
        result = await command
    except ValidationFailed as failed:
        return payload(user_errors=user_errors(failed.errors))
    info.context.forget_loaded()
    return succeeded(result)
