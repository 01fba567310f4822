"""The per-request context: the authenticated viewer, their reach and the request's DataLoaders."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from strawberry.dataloader import DataLoader
from strawberry.types import Info as StrawberryInfo

from domain.models import Account, User
from domain.permissions import Reach, reach_of

K = TypeVar("K")
V = TypeVar("V")

BatchLoad = Callable[[int, Sequence[Any]], Awaitable[Sequence[Any]]]


@dataclass
class Context:
    request: Request
    response: Response
    viewer: User
    _reach: Reach | None = None
    _loaders: dict[BatchLoad, DataLoader[Any, Any]] = field(default_factory=dict)

    @property
    def account(self) -> Account:
        return self.viewer.account

    @property
    def account_id(self) -> int:
        return self.viewer.account_id

    async def reach(self) -> Reach:
        if self._reach is None:
            self._reach = await reach_of(self.viewer)
        return self._reach

    def loader(self, batch_load: BatchLoad) -> DataLoader[Any, Any]:
        """One DataLoader per batch function per request, always scoped to the viewer's account.

        ``batch_load(account_id, keys)`` returns one result per key, in order.
        """
        existing = self._loaders.get(batch_load)
        if existing is None:
            account_id = self.account_id

            async def load(keys: list[Any]) -> Sequence[Any]:
                return await batch_load(account_id, keys)

            existing = self._loaders[batch_load] = DataLoader(load_fn=load)
        return existing

    def forget_loaded(self) -> None:
        """Drop cached loads after a mutation so the returned object shows the new state."""
        self._loaders.clear()


Info = StrawberryInfo[Context, None]
