"""A value computed from a DataLoader's result without a coroutine.

A resolver written ``async def`` costs a coroutine and, once the executor gathers it, a task of
its own: a page of 50 goals with three contributors has hundreds of them, most only waiting for
a batch and wrapping its rows. ``then(loaded, build)`` returns ``build``'s result at once when
the load is already done, and otherwise a future settled by one callback when it is.
"""

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from strawberry.utils.await_maybe import AwaitableOrValue

T = TypeVar("T")
R = TypeVar("R")


def then(loaded: Awaitable[T], build: Callable[[T], AwaitableOrValue[R]]) -> AwaitableOrValue[R]:
    """``build(await loaded)``, awaited too when it is awaitable, without a coroutine when
    ``loaded`` is a future (as DataLoader.load and load_many return)."""
    if not isinstance(loaded, asyncio.Future):
        return _awaiting(loaded, build)
    if loaded.done():
        return build(loaded.result())
    settled: asyncio.Future[R] = loaded.get_loop().create_future()

    def on_loaded(done: asyncio.Future[T]) -> None:
        if settled.done():
            return
        if done.cancelled():
            settled.cancel()
            return
        try:
            built = build(done.result())
        except Exception as error:  # noqa: BLE001 - handed to whoever awaits it
            settled.set_exception(error)
            return
        _settle_with(settled, built)

    loaded.add_done_callback(on_loaded)
    return settled


def _settle_with(settled: asyncio.Future[Any], built: Any) -> None:
    if not inspect.isawaitable(built):
        settled.set_result(built)
        return
    inner = asyncio.ensure_future(built)

    def copy(done: asyncio.Future[Any]) -> None:
        if settled.done():
            return
        if done.cancelled():
            settled.cancel()
        elif (error := done.exception()) is not None:
            settled.set_exception(error)
        else:
            settled.set_result(done.result())

    inner.add_done_callback(copy)


async def _awaiting(loaded: Awaitable[T], build: Callable[[T], AwaitableOrValue[R]]) -> R:
    built = build(await loaded)
    if inspect.isawaitable(built):
        return await built
    return built
