"""Fields resolved without Strawberry's per-call wrapper.

Strawberry wraps every resolver in a function that builds an ``Info``, converts the arguments
and runs the field extensions on each call, even for a method like ``Goal.name`` that only reads
an attribute of ``self``. A list of 50 goals of three contributors has thousands of such fields.

- For a field with a synchronous resolver that takes nothing but its source (``self``, or
  ``root``; no arguments, no info, no field extensions or permissions) the wrapper does nothing
  but call it, so graphql-core may as well call it directly: same value, same errors, less
  work. The level executor (api.common.level_execution) calls such a method, and the plain
  attributes Strawberry reads itself, without even a resolve info.
- For any other field without extensions, permissions or exception handlers, the level
  executor converts the arguments once per field of the document (they are the same for every
  object of the request) and calls the resolver as the wrapper would, with its Info.
"""

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from api.common.level_execution import IGNORES_INFO, PREPARE_CALL, SOURCE_METHOD, Call


def _calling(method: Callable[[Any], Any]) -> Callable[[Any, GraphQLResolveInfo[Any]], Any]:
    def resolve(source: Any, _: GraphQLResolveInfo[Any]) -> Any:
        return method(source)

    setattr(resolve, SOURCE_METHOD, method)
    return resolve


def _basic(field: StrawberryField) -> Callable[[Any], Any]:
    def read(source: Any) -> Any:
        return field.get_result(source, info=None, args=[], kwargs={})

    return read


def _plain_method(field: StrawberryField) -> Callable[..., Any] | None:
    """The resolver's function, when Strawberry's wrapper would only convert its arguments and
    call it (no field extensions, which permissions are too)."""
    resolver = field.base_resolver
    if resolver is None or field.extensions:
        return None
    method = resolver.wrapped_func
    if isinstance(method, staticmethod | classmethod):
        return None
    return method


def direct_resolver(field: StrawberryField) -> Callable[[Any, GraphQLResolveInfo[Any]], Any] | None:
    """A resolver that calls ``field``'s function on the source, or None when the field needs
    Strawberry's wrapper."""
    method = _plain_method(field)
    if method is None or field.arguments or field.base_resolver.is_async:  # type: ignore[union-attr]
        return None
    # Its one parameter is the source: ``self`` of a method, or ``root`` (api.common.types'
    # from_row).
    resolver = field.base_resolver
    parameters = list(resolver.signature.parameters.values())  # type: ignore[union-attr]
    sources = [p for p in (resolver.self_parameter, resolver.root_parameter) if p is not None]  # type: ignore[union-attr]
    if len(parameters) != 1 or parameters[0] not in sources:
        return None
    return _calling(method)


def call_preparer(
    field: StrawberryField, schema: strawberry.Schema
) -> Callable[[dict[str, Any]], Call] | None:
    """For the level executor: given a field's coerced arguments, a call of its resolver as
    Strawberry's wrapper makes it, the arguments converted on the first call only."""
    method = _plain_method(field)
    converter = schema.schema_converter
    if method is None or converter._get_field_exception_handlers(field):
        return None
    resolver = field.base_resolver
    assert resolver is not None
    takes_self = resolver.self_parameter is not None
    source_names = [p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p]
    info_name = resolver.info_parameter.name if resolver.info_parameter else None
    info_class = schema.config.info_class

    def prepare(arguments: dict[str, Any]) -> Call:
        converted: dict[str, Any] | None = None

        def call(source: Any, raw_info: GraphQLResolveInfo[Any]) -> Any:
            nonlocal converted
            info = info_class(_raw_info=raw_info, _field=field)
            if converted is None:
                converted = convert_arguments(
                    arguments,
                    field.arguments,
                    scalar_registry=converter.scalar_registry,
                    config=schema.config,
                    info=info,
                )
            kwargs = dict(converted)
            for name in source_names:
                kwargs[name] = source
            if info_name is not None:
                kwargs[info_name] = info
            return method(source, **kwargs) if takes_self else method(**kwargs)

        return call

    return prepare


def mark_generated_type_check(object_type: GraphQLObjectType) -> None:
    """Strawberry gives a type that implements an interface an ``is_type_of`` of its own, an
    isinstance check that never reads the resolve info; one the type declares may."""
    definition = (object_type.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if object_type.is_type_of is not None and getattr(definition, "is_type_of", 0) is None:
        setattr(object_type.is_type_of, IGNORES_INFO, True)


def resolve_fields_directly(schema: strawberry.Schema) -> int:
    """Lets graphql-core call the plain fields' methods itself and the level executor call the
    others without the wrapper; returns how many graphql-core calls directly."""
    changed = 0
    for named in schema._schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        mark_generated_type_check(named)
        for graphql_field in named.fields.values():
            definition = (graphql_field.extensions or {}).get(
                GraphQLCoreConverter.DEFINITION_BACKREF
            )
            if not isinstance(definition, StrawberryField):
                continue
            if getattr(graphql_field.resolve, "_is_default", False):
                # Strawberry's own resolver of a plain attribute calls nothing else either.
                setattr(graphql_field.resolve, SOURCE_METHOD, _basic(definition))
                continue
            resolve = direct_resolver(definition)
            if resolve is not None:
                graphql_field.resolve = resolve
                changed += 1
                continue
            prepare = call_preparer(definition, schema)
            if prepare is not None:
                setattr(graphql_field.resolve, PREPARE_CALL, prepare)
    return changed
