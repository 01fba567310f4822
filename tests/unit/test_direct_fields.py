"""Plain fields resolved directly answer as Strawberry's wrapper does, and fields that need
the wrapper (info, arguments, permissions, async) keep it."""

from typing import Any

import strawberry
from strawberry.permission import BasePermission

from api.common.direct_fields import resolve_fields_directly


class Denied(BasePermission):
    message = "denied"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


def tripled(root: "Thing") -> int:
    return root.number * 3


@strawberry.type
class Thing:
    number: int
    triple: int = strawberry.field(resolver=tripled)

    @strawberry.field
    def double(self) -> int:
        return self.number * 2

    @strawberry.field
    def failing(self) -> int:
        raise ValueError("no value")

    @strawberry.field
    def times(self, factor: int = 3) -> int:
        return self.number * factor

    @strawberry.field
    def operation(self, info: strawberry.Info) -> str:
        return info.operation.name.value if info.operation.name else ""

    @strawberry.field(permission_classes=[Denied])
    def secret(self) -> int | None:
        return self.number

    @strawberry.field
    async def later(self) -> int:
        return self.number + 1


@strawberry.type
class Query:
    @strawberry.field
    def thing(self) -> Thing:
        return Thing(number=21)


QUERY = """query Look { thing { number triple double times operation later failing secret } }"""


async def answer(schema: strawberry.Schema) -> tuple[Any, list[str]]:
    result = await schema.execute(QUERY)
    return result.data, sorted(error.message for error in result.errors or [])


async def test_only_plain_methods_are_resolved_directly_and_answers_stay_the_same():
    wrapped = strawberry.Schema(query=Query)
    direct = strawberry.Schema(query=Query)

    # Query.thing, Thing.double and Thing.failing (methods of self alone) and Thing.triple (a
    # function of the root alone).
    assert resolve_fields_directly(direct) == 4

    assert await answer(direct) == await answer(wrapped)
    data, errors = await answer(direct)
    assert data is None  # `failing` is non-null: its error nulls the parent, up to data
    assert "no value" in errors


async def test_a_permission_still_denies_when_its_field_is_alone():
    schema = strawberry.Schema(query=Query)
    resolve_fields_directly(schema)
    result = await schema.execute("{ thing { double triple secret } }")
    assert result.data == {"thing": {"double": 42, "triple": 63, "secret": None}}
    assert [error.message for error in result.errors or []] == ["denied"]
