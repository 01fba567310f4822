"""Plain fields resolved without Strawberry's per-call wrapper.

Strawberry wraps every resolver in a function that builds an ``Info``, converts the arguments
and runs the field extensions on each call, even for a method like ``Goal.name`` that only reads
an attribute of ``self``. A list of 50 goals of three contributors has thousands of such fields.
For a field with a synchronous resolver that takes nothing but its source (``self``, or
``root``; no arguments, no info, no field extensions or permissions) the wrapper does nothing
but call it, so graphql-core may as
well call it directly: same value, same errors, less work.
"""

from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField


def _calling(method: Callable[[Any], Any]) -> Callable[[Any, GraphQLResolveInfo[Any]], Any]:
    def resolve(source: Any, _: GraphQLResolveInfo[Any]) -> Any:
        return method(source)

    return resolve


def direct_resolver(field: StrawberryField) -> Callable[[Any, GraphQLResolveInfo[Any]], Any] | None:
    """A resolver that calls ``field``'s function on the source, or None when the field needs
    Strawberry's wrapper."""
    resolver = field.base_resolver
    if resolver is None or resolver.is_async or field.arguments or field.extensions:
        return None
    method = resolver.wrapped_func
    if isinstance(method, staticmethod | classmethod):
        return None
    # Its one parameter is the source: ``self`` of a method, or ``root`` (api.common.types'
    # from_row).
    parameters = list(resolver.signature.parameters.values())
    sources = [p for p in (resolver.self_parameter, resolver.root_parameter) if p is not None]
    if len(parameters) != 1 or parameters[0] not in sources:
        return None
    return _calling(method)


def resolve_plain_fields_directly(schema: GraphQLSchema) -> int:
    """Lets graphql-core call the plain fields' methods itself; returns how many it changed."""
    changed = 0
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for graphql_field in named.fields.values():
            definition = (graphql_field.extensions or {}).get(
                GraphQLCoreConverter.DEFINITION_BACKREF
            )
            if not isinstance(definition, StrawberryField):
                continue
            resolve = direct_resolver(definition)
            if resolve is not None:
                graphql_field.resolve = resolve
                changed += 1
    return changed
