"""`then` gives a loaded value's successor at once when it can, and otherwise a `Later` that
awaits like a coroutine would: to the value, the error, or a further awaitable's result."""

import asyncio

import pytest

from api.common.futures import Later, then


async def test_a_done_load_is_built_at_once():
    loaded = asyncio.get_running_loop().create_future()
    loaded.set_result(20)
    assert then(loaded, lambda value: value + 1) == 21


async def test_a_pending_load_is_built_when_it_settles():
    loaded = asyncio.get_running_loop().create_future()
    built = then(loaded, lambda value: value * 2)
    assert isinstance(built, Later) and built.loaded is loaded
    loaded.set_result(4)
    assert await built == 8


async def test_a_failed_load_fails_the_result():
    loaded = asyncio.get_running_loop().create_future()
    built = then(loaded, lambda value: value)
    loaded.set_exception(LookupError("gone"))
    with pytest.raises(LookupError, match="gone"):
        await built


async def test_an_error_in_building_fails_the_result():
    loaded = asyncio.get_running_loop().create_future()
    built = then(loaded, lambda value: 1 / value)
    loaded.set_result(0)
    with pytest.raises(ZeroDivisionError):
        await built


async def test_a_build_that_loads_again_is_awaited_too():
    loop = asyncio.get_running_loop()
    first, second = loop.create_future(), loop.create_future()
    built = then(first, lambda ids: then(second, lambda rows: [rows[i] for i in ids]))
    first.set_result([1, 0])
    second.set_result(["a", "b"])
    assert await built == ["b", "a"]


async def test_a_coroutine_is_awaited_as_one():
    async def load() -> int:
        await asyncio.sleep(0)
        return 3

    assert await then(load(), lambda value: value + 1) == 4
