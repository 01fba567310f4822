"""A value computed from a DataLoader's result without a coroutine.

A resolver written ``async def`` costs a coroutine and, once the executor gathers it, a task of
its own: a page of 50 goals with three contributors has hundreds of them, most only waiting for
a batch and wrapping its rows. ``then(loaded, build)`` returns ``build``'s result at once when
the load is already done, and otherwise a `Later`: awaitable like a coroutine wherever one is
awaited, while the level executor (api.common.level_execution) awaits the load itself with the
rest of its level and calls ``build``, with no coroutine, task or future of its own.
"""

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Generator
from typing import Any, Generic, TypeVar

from strawberry.utils.await_maybe import AwaitableOrValue

T = TypeVar("T")
R = TypeVar("R")


class Later(Generic[T, R]):
    """``build`` applied to what ``loaded`` gives, once it does; awaiting it awaits whatever
    ``build`` returns too."""

    __slots__ = ("build", "loaded")

    def __init__(self, loaded: Awaitable[T], build: Callable[[T], AwaitableOrValue[R]]) -> None:
        self.loaded = loaded
        self.build = build

    def __await__(self) -> Generator[Any, None, R]:
        built = self.build((yield from self.loaded.__await__()))
        if inspect.isawaitable(built):
            return (yield from built.__await__())
        return built


def then(loaded: Awaitable[T], build: Callable[[T], AwaitableOrValue[R]]) -> AwaitableOrValue[R]:
    """``build(await loaded)``, at once when ``loaded`` is a future that is already done."""
    if isinstance(loaded, asyncio.Future) and loaded.done():
        return build(loaded.result())
    return Later(loaded, build)
