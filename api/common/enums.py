"""A domain enumeration as a GraphQL enum whose values carry descriptions."""

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

import strawberry

E = TypeVar("E", bound=type[Enum])


def described_enum(cls: E, *, name: str, description: str, values: Mapping[str, str]) -> E:
    """``strawberry.enum(cls)``, each value described by ``values`` (every value needs one).

    It registers ``cls`` itself, so call it as a statement after naming the class
    (``GoalType = enums.GoalType``, then ``described_enum(GoalType, ...)``): a name bound to a
    call's result is a variable to mypy, not a type."""
    wrapped = strawberry.enum(cls, name=name, description=description)
    definition = wrapped.__strawberry_definition__  # type: ignore[attr-defined]
    missing = {v.name for v in definition.values} - set(values)
    if missing:
        raise ValueError(f"{name}: no description for {sorted(missing)}")
    for value in definition.values:
        value.description = values[value.name]
    return wrapped
