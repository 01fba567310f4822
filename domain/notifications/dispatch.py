"""Handing new outbox rows to the delivery workers after the commit.

The process decides how: the API and the commands install an arq pool, a worker its own
connection (see the composition root, ``api/cli/``); with none installed rows stay PENDING until the
sweep finds them."""

from collections.abc import Awaitable, Callable, Sequence

import structlog

log = structlog.get_logger("goals.notifications")

Dispatcher = Callable[[Sequence[int]], Awaitable[None]]

_dispatcher: Dispatcher | None = None


def install_dispatcher(dispatcher: Dispatcher | None) -> Dispatcher | None:
    """Set what ``after_commit`` hands new rows to; returns the previous one to put it back.

    The API process installs an arq pool, the workers their own connection; with none installed
    rows stay PENDING until the sweep finds them."""
    global _dispatcher
    previous, _dispatcher = _dispatcher, dispatcher
    return previous


async def after_commit(notification_ids: Sequence[int]) -> None:
    """Hand new outbox rows to the delivery workers; call after the transaction commits.
    Never raises: rows left pending are picked up by the periodic sweep."""
    if not notification_ids or _dispatcher is None:
        return
    try:
        await _dispatcher(list(notification_ids))
    except Exception as error:  # noqa: BLE001 - the sweep delivers what could not be queued
        log.warning(
            "notifications not queued; the sweep will deliver them",
            count=len(notification_ids),
            error=f"{type(error).__name__}: {error}",
        )
