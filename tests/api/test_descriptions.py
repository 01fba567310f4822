"""The schema explains itself: every type, field, argument, input field and enum value that the
service defines carries a description for the GraphiQL documentation pane."""

from collections.abc import Iterator
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    specified_scalar_types,
)

from api.schema import schema


def _elements(named: GraphQLNamedType) -> Iterator[tuple[str, Any]]:
    """The type and each of its fields, arguments, input fields or enum values, by name."""
    yield named.name, named
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        for field_name, field in named.fields.items():
            yield f"{named.name}.{field_name}", field
            for argument_name, argument in field.args.items():
                yield f"{named.name}.{field_name}({argument_name})", argument
    elif isinstance(named, GraphQLInputObjectType):
        for field_name, input_field in named.fields.items():
            yield f"{named.name}.{field_name}", input_field
    elif isinstance(named, GraphQLEnumType):
        for value_name, value in named.values.items():
            yield f"{named.name}.{value_name}", value


def undescribed(served: GraphQLSchema) -> list[str]:
    """Every element of the service's own types without a description, as `Type.field(arg)`;
    the built-in scalars and the introspection types are GraphQL's, not ours."""
    return [
        name
        for type_name, named in sorted(served.type_map.items())
        if not type_name.startswith("__") and type_name not in specified_scalar_types
        for name, element in _elements(named)
        if not (element.description or "").strip()
    ]


def test_every_element_of_the_schema_is_described() -> None:
    missing = undescribed(schema._schema)
    assert not missing, f"{len(missing)} elements without a description:\n" + "\n".join(missing)


def test_the_walk_names_each_kind_of_element_without_a_description() -> None:
    sketch = build_schema(
        """
        "Reads." type Query { "Described." a(x: Int): Thing  b(" " y: Form): Int }
        type Thing { "Described." c: Kind }
        "Kinds." enum Kind { "One." ONE TWO }
        "Input." input Form { d: Int }
        """
    )
    assert undescribed(sketch) == [
        "Form.d",
        "Kind.TWO",
        "Query.a(x)",
        "Query.b",
        "Query.b(y)",
        "Thing",
    ]
