"""The level executor answers every query exactly as graphql-core's executor does: the same
data, and for anything off its path (errors, nulls in non-null fields, abstract types, skipped
fields) the same errors, paths and locations, because graphql-core then answers."""

from typing import Annotated, Any

import pytest
import strawberry
from strawberry.dataloader import DataLoader
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.common.direct_fields import resolve_fields_directly
from api.common.futures import then
from api.common.level_execution import LevelExecutor

LOADS: list[list[int]] = []


async def load_doubles(keys: list[int]) -> list[int]:
    LOADS.append(list(keys))
    return [key * 2 for key in keys]


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Person(Named):
    email: str


@strawberry.type
class Group(Named):
    size: int


Member = Annotated[Person | Group, strawberry.union("Member")]


@strawberry.input
class Window:
    low: int = 0
    high: int = 100


@strawberry.type
class Item:
    number: int

    @strawberry.field
    def double(self) -> int:
        return self.number * 2

    @strawberry.field
    def scaled(self, factor: int = 3, window: Window | None = None) -> int | None:
        value = self.number * factor
        if window is not None and not window.low <= value <= window.high:
            return None
        return value

    @strawberry.field
    async def later(self) -> int:
        return self.number + 1

    @strawberry.field
    def loaded(self, info: strawberry.Info) -> int:
        return then(info.context["doubles"].load(self.number), lambda value: value + 1)  # type: ignore[return-value]

    @strawberry.field
    def where(self, info: strawberry.Info) -> str:
        return "/".join(str(key) for key in info.path.as_list())

    @strawberry.field
    def fragile(self) -> int | None:
        if self.number == 2:
            raise ValueError("two is fragile")
        return self.number

    @strawberry.field
    def strict(self) -> int:
        return None if self.number == 3 else self.number  # type: ignore[return-value]

    @strawberry.field
    def member(self) -> Member:
        if self.number % 2:
            return Person(name=f"p{self.number}", email=f"p{self.number}@x.test")
        return Group(name=f"g{self.number}", size=self.number)

    @strawberry.field
    def named(self) -> Named:
        return Group(name=f"n{self.number}", size=1)

    @strawberry.field
    def children(self) -> list["Item"]:
        return [Item(number=self.number * 10 + i) for i in range(2)]


@strawberry.type
class Query:
    @strawberry.field
    def items(self, count: int = 3) -> list[Item]:
        return [Item(number=n) for n in range(1, count + 1)]

    @strawberry.field
    async def item(self, number: int) -> Item | None:
        return Item(number=number) if number > 0 else None


@strawberry.type
class Mutation:
    @strawberry.mutation
    def bump(self, number: int) -> Item:
        return Item(number=number + 1)


def schemas() -> tuple[strawberry.Schema, strawberry.Schema]:
    plain = strawberry.Schema(query=Query, mutation=Mutation)
    level = strawberry.Schema(query=Query, mutation=Mutation, execution_context_class=LevelExecutor)
    resolve_fields_directly(level)
    return plain, level


async def answer(schema: strawberry.Schema, query: str, variables: Any = None) -> Any:
    result = await schema.execute(
        query, variable_values=variables, context_value={"doubles": DataLoader(load_doubles)}
    )
    errors = [
        (e.message, e.path, [(loc.line, loc.column) for loc in e.locations or []])
        for e in result.errors or []
    ]
    return result.data, sorted(errors, key=str)


CASES = {
    "plain and nested": "{ items { number double later children { number double } } }",
    "arguments and variables": (
        "query ($f: Int, $w: Window) { items(count: 4) { a: scaled b: scaled(factor: $f) "
        "c: scaled(factor: 2, window: $w) } }",
        {"f": 5, "w": {"low": 3, "high": 6}},
    ),
    "loader results": "{ items(count: 5) { loaded children { loaded } } }",
    "resolve info": "{ items { where children { here: where } } }",
    "union, interface and typename": (
        "{ items { __typename member { __typename ... on Person { name email } "
        "... on Group { name size } } named { name ... on Group { size } } } }"
    ),
    "skip and include": (
        "query ($yes: Boolean!) { items { number @skip(if: $yes) double @include(if: $yes) } }",
        {"yes": True},
    ),
    "an error in a nullable field": "{ items { number fragile } }",
    "null in a non-null field": "{ items { number strict } }",
    "an error deep in a list": "{ item(number: 1) { children { number } } items { fragile } }",
    "a null root": "{ item(number: 0) { number } other: item(number: 2) { fragile double } }",
    "fragments": (
        "query { items { ...Parts } } fragment Parts on Item { number children { ...Kids } } "
        "fragment Kids on Item { double }"
    ),
    "a mutation": "mutation { bump(number: 1) { number double } }",
}


@pytest.mark.parametrize("case", list(CASES))
async def test_answers_as_graphql_core_does(case: str):
    query, variables = CASES[case] if isinstance(CASES[case], tuple) else (CASES[case], None)
    plain, level = schemas()
    expected = await answer(plain, query, variables)
    assert await answer(level, query, variables) == expected
    assert expected[0] is not None or expected[1]


async def test_a_level_loads_its_keys_in_one_batch():
    _, level = schemas()
    LOADS.clear()
    result = await level.execute(
        "{ items(count: 4) { loaded } }", context_value={"doubles": DataLoader(load_doubles)}
    )
    assert result.data == {"items": [{"loaded": n * 2 + 1} for n in range(1, 5)]}
    assert LOADS == [[1, 2, 3, 4]]


async def test_errors_are_graphql_cores_own():
    plain, level = schemas()
    query = "{ items { number fragile strict } }"
    data, errors = await answer(level, query)
    assert data is None  # `strict` of item 3 nulls its non-null item, the list, then data
    assert ("two is fragile", ["items", 1, "fragile"], [(1, 18)]) in errors
    assert ("Cannot return null for non-nullable field Item.strict.", ["items", 2, "strict"]) in [
        error[:2] for error in errors
    ]
    assert (data, errors) == await answer(plain, query)


async def test_only_answers_with_errors_run_again_on_graphql_core(monkeypatch):
    runs: list[str] = []
    graphql_core = StrawberryGraphQLCoreExecutionContext.execute_operation

    def counted(self: Any, serially: bool | None = None) -> Any:
        runs.append(self.operation.operation.value)
        return graphql_core(self, serially)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_operation", counted)
    _, level = schemas()
    for case in ("plain and nested", "arguments and variables", "loader results", "resolve info"):
        query, variables = CASES[case] if isinstance(CASES[case], tuple) else (CASES[case], None)
        await answer(level, query, variables)
    await answer(level, CASES["union, interface and typename"])
    await answer(level, *CASES["skip and include"])
    assert runs == []
    await answer(level, CASES["an error in a nullable field"])
    await answer(level, CASES["a mutation"])
    assert runs == ["query", "mutation"]
