"""Queries executed a level of the answer at a time.

graphql-core executes one field of one object per call: it builds the resolve info, coerces
the arguments, calls the resolver and completes its value, and it wraps every awaitable in a
task of its own. A page of 50 goals with three contributors each is about 3,000 such calls,
and their bookkeeping costs more than the page's data.

`LevelExecutor` runs a query a level at a time instead: each field of a selection for every
object at that depth of the answer (the `status` of all 50 goals, then of all 150 contributor
goals), with the arguments coerced once per field of the document rather than once per
object, plain fields called without a resolve info (the others share their field's first one,
at their own path: `InfoAt`), and the awaitables of a whole level gathered together, so a
DataLoader still receives a level's keys in one batch; a `Later` (api.common.futures) is
awaited through its load, and built here.

It only ever builds an answer without errors. The moment anything leaves that path — a
resolver raises, a non-null field comes out null, a value its type refuses, deferred
fragments, an abort signal — it drops what it built and graphql-core executes the operation
from the start, so every error, its path and the nulls around it are graphql-core's own. Query
resolvers only read, so running one twice is harmless; mutations and subscriptions always run
on graphql-core's executor.
"""

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    OperationType,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet, collect_fields
from graphql.execution.values import get_argument_values
from graphql.pyutils import AwaitableOrValue, Path, Undefined, is_iterable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.common.futures import Later

# Attributes by which api.common.direct_fields tells how to call a field's resolver: this
# method on the source, needing neither the resolve info nor arguments; or a function that,
# given the field's coerced arguments, returns a call for each source and its resolve info.
SOURCE_METHOD = "source_method"
PREPARE_CALL = "prepare_call"
# Set on an object type's is_type_of that never reads its resolve info.
IGNORES_INFO = "ignores_info"
# Values that are neither errors nor awaitables, which a leaf completes without asking.
_PLAIN_VALUES = frozenset({str, int, float, bool, Decimal, date, datetime})
Call = Callable[[Any, GraphQLResolveInfo[Any]], Any]


class InfoAt:
    """A resolve info at another path, sharing everything else with one already built: for the
    resolvers of a field of the document, which differ by their path only. It answers attribute
    reads, which is all Strawberry's ``Info`` makes of it."""

    __slots__ = ("_info", "path")

    def __init__(self, info: GraphQLResolveInfo[Any], path: Path | None) -> None:
        self._info = info
        self.path = path

    def __getattr__(self, name: str) -> Any:
        return getattr(self._info, name)


class _OffThePath(Exception):
    """Something the level executor leaves to graphql-core."""


Complete = Callable[[Any, "Path | None", "_Following"], Any]


@dataclass(slots=True)
class _Field:
    """One field of the document on one parent type, prepared once per request."""

    parent_type: GraphQLObjectType
    definition: GraphQLField
    details: FieldDetailsList
    nodes: list[FieldNode]
    # The resolver, or the call prepared for this request's arguments.
    resolve: Callable[..., Any]
    # Set when calling the resolver needs nothing but the source.
    method: Callable[[Any], Any] | None
    # Empty when ``resolve`` is a prepared call.
    arguments: dict[str, Any]
    # A leaf (or list of leaves) whose resolver needs no info has no use for its path.
    needs_path: bool
    # A prepared call reads attributes of its resolve info only: every object's info after the
    # first is that one at another path (`InfoAt`).
    shares_info: bool
    first_info: GraphQLResolveInfo[Any] | None = None
    # Completes a resolved value as graphql-core would, for the field's type.
    complete: Complete = field(init=False)


@dataclass(slots=True)
class _Selection:
    """A selection on one object type and the objects of one level that receive it."""

    type: GraphQLObjectType
    fields: GroupedFieldSet
    # (source, path, the answer's dict for it)
    objects: list[tuple[Any, Path | None, dict[str, Any]]] = field(default_factory=list)


# The selections of the next level, by object type and field of the document.
_Following = dict[tuple[str, int], _Selection]
# A value still to be awaited: the field, the answer's dict, its key and path.
_Waiting = tuple[_Field, dict[str, Any], str, Path | None, Awaitable[Any]]


class LevelExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, with queries run a level at a time when they succeed whole."""

    def execute_operation(self, serially: bool | None = None) -> AwaitableOrValue[Any]:
        if (
            self.operation.operation != OperationType.QUERY
            or serially
            or self.abort_signal is not None
        ):
            return super().execute_operation(serially)
        return self._by_level_or_else(serially)

    async def _by_level_or_else(self, serially: bool | None) -> Any:
        # Each entry keeps its field details alive, so their id is not reused.
        self._prepared: dict[tuple[str, int], tuple[FieldDetailsList, _Field | None]] = {}
        try:
            data = await self._execute_by_level()
        except Exception:  # noqa: BLE001 - graphql-core runs it again and reports the error
            result = super().execute_operation(serially)
            return await result if self.is_awaitable(result) else result
        return self.finish(self.build_response(data))

    async def _execute_by_level(self) -> dict[str, Any]:
        root_type = self.schema.get_root_type(self.operation.operation)
        if root_type is None:
            raise _OffThePath
        grouped, deferred, _ = collect_fields(
            self.schema,
            self.fragments,
            self.variable_values,
            root_type,
            self.operation,
            self.hide_suggestions,
        )
        if deferred:
            raise _OffThePath
        data: dict[str, Any] = {}
        level = [_Selection(root_type, grouped, [(self.root_value, None, data)])]
        while level:
            level = await self._execute_level(level)
        return data

    async def _execute_level(self, level: list[_Selection]) -> list[_Selection]:
        """Resolves every field of ``level``, completes what needs no waiting, awaits the rest
        together, and returns the selections of the next level."""
        following: _Following = {}
        waiting: list[_Waiting] = []
        try:
            for selection in level:
                self._resolve_selection(selection, following, waiting)
        except BaseException:
            _close(item[-1] for item in waiting)
            raise
        while waiting:
            waiting = await self._settle(waiting, following)
        return list(following.values())

    async def _settle(self, waiting: list[_Waiting], following: _Following) -> list[_Waiting]:
        """Awaits what ``waiting`` waits for, together (a `Later`'s load rather than itself),
        completes what that settles and returns what its builds still wait for."""
        loads = [item[-1].loaded if isinstance(item[-1], Later) else item[-1] for item in waiting]
        values = await asyncio.gather(*loads, return_exceptions=True)
        still: list[_Waiting] = []
        for (prepared, answer, key, path, awaited), value in zip(waiting, values, strict=True):
            if isinstance(value, BaseException):
                raise _OffThePath from value
            if isinstance(awaited, Later):
                value = awaited.build(value)
                if self.is_awaitable(value):
                    still.append((prepared, answer, key, path, value))
                    continue
            answer[key] = prepared.complete(value, path, following)
        return still

    def _resolve_selection(
        self, selection: _Selection, following: _Following, waiting: list[_Waiting]
    ) -> None:
        parent_type = selection.type
        type_name = parent_type.name
        is_awaitable = self.is_awaitable
        for key, details in selection.fields.items():
            prepared = self._prepare(parent_type, details)
            if prepared is None:
                continue  # not a field of this type: graphql-core leaves it out too
            method = prepared.method
            needs_path = prepared.needs_path
            complete = prepared.complete
            for source, path, answer in selection.objects:
                field_path = Path(path, key, type_name) if needs_path else None
                if method is not None:
                    value = method(source)
                elif prepared.shares_info and prepared.first_info is not None:
                    value = prepared.resolve(source, InfoAt(prepared.first_info, field_path))
                else:
                    info = self._info(prepared, field_path)  # type: ignore[arg-type]
                    prepared.first_info = info
                    value = prepared.resolve(source, info, **prepared.arguments)
                if is_awaitable(value):
                    answer[key] = None  # keeps the answer's keys in the document's order
                    waiting.append((prepared, answer, key, field_path, value))
                else:
                    answer[key] = complete(value, field_path, following)

    def _prepare(self, parent_type: GraphQLObjectType, details: FieldDetailsList) -> _Field | None:
        key = (parent_type.name, id(details))
        if key in self._prepared:
            return self._prepared[key][1]
        first = details[0]
        definition = self.schema.get_field(parent_type, first.node.name.value)
        prepared = None
        if definition is not None:
            resolve = definition.resolve or self.field_resolver
            if self.middleware_manager:
                resolve = self.middleware_manager.get_field_resolver(resolve)
            arguments = (
                get_argument_values(
                    definition,
                    first.node,
                    self.variable_values,
                    first.fragment_variable_values,
                    self.hide_suggestions,
                )
                if definition.args or first.node.arguments
                else {}
            )
            method = None if arguments else getattr(resolve, SOURCE_METHOD, None)
            prepare = getattr(resolve, PREPARE_CALL, None)
            call = prepare(arguments) if method is None and prepare is not None else None
            if call is not None:
                resolve, arguments = call, {}
            prepared = _Field(
                parent_type=parent_type,
                definition=definition,
                details=details,
                nodes=[d.node for d in details],
                resolve=resolve,
                method=method,
                arguments=arguments,
                needs_path=method is None or not is_leaf_type(get_named_type(definition.type)),
                shares_info=call is not None,
            )
            prepared.complete = self._completer(prepared, definition.type)
        self._prepared[key] = (details, prepared)
        return prepared

    def _info(self, prepared: _Field, path: Path) -> GraphQLResolveInfo[Any]:
        return self.build_resolve_info(
            prepared.definition, prepared.nodes, prepared.parent_type, path
        )

    def _completer(self, prepared: _Field, return_type: GraphQLOutputType) -> Complete:
        """What graphql-core's complete_value does for ``return_type``, decided once; a value
        graphql-core would report an error for leaves the level executor's path."""
        if is_non_null_type(return_type):
            return self._non_null(self._completer(prepared, return_type.of_type))
        if is_list_type(return_type):
            return self._list(self._completer(prepared, return_type.of_type))
        if is_leaf_type(return_type):
            return self._leaf(return_type)
        return self._object(prepared, return_type)

    @staticmethod
    def _non_null(inner: Complete) -> Complete:
        def non_null(value: Any, path: Path | None, following: _Following) -> Any:
            completed = inner(value, path, following)
            if completed is None:
                raise _OffThePath
            return completed

        return non_null

    def _list(self, complete_item: Complete) -> Complete:
        def as_list(value: Any, path: Path | None, following: _Following) -> Any:
            if value is None or value is Undefined:
                return None
            if self._unusable(value) or not is_iterable(value):
                raise _OffThePath
            if path is None:
                return [complete_item(item, None, following) for item in value]
            return [
                complete_item(item, path.add_key(index, None), following)
                for index, item in enumerate(value)
            ]

        return as_list

    def _leaf(self, return_type: GraphQLLeafType) -> Complete:
        coerce = self.complete_leaf_value

        def leaf(value: Any, path: Path | None, following: _Following) -> Any:
            if value is None or value is Undefined:
                return None
            if (
                value.__class__ not in _PLAIN_VALUES
                and not isinstance(value, Enum)
                and self._unusable(value)
            ):
                raise _OffThePath
            return coerce(return_type, value)

        return leaf

    def _object(self, prepared: _Field, return_type: GraphQLOutputType) -> Complete:
        def as_object(value: Any, path: Path | None, following: _Following) -> Any:
            if value is None or value is Undefined:
                return None
            if self._unusable(value):
                raise _OffThePath
            assert path is not None  # needs_path
            object_type = self._object_type(prepared, return_type, path, value)
            answer: dict[str, Any] = {}
            key = (object_type.name, id(prepared.details))
            selection = following.get(key)
            if selection is None:
                grouped, deferred, _ = self.collect_subfields(object_type, prepared.details)
                if deferred:
                    raise _OffThePath
                selection = following[key] = _Selection(object_type, grouped)
            selection.objects.append((value, path, answer))
            return answer

        return as_object

    def _unusable(self, value: Any) -> bool:
        """An error or an awaitable where graphql-core expects a value to complete."""
        if isinstance(value, Exception) or self.is_awaitable(value):
            _close([value])
            return True
        return False

    def _object_type(
        self, prepared: _Field, return_type: GraphQLOutputType, path: Path, value: Any
    ) -> GraphQLObjectType:
        """The object type ``value`` completes as, as graphql-core decides it."""
        if is_abstract_type(return_type):
            info = self._info(prepared, path)
            resolve_type = return_type.resolve_type or self.type_resolver
            runtime_type = resolve_type(value, info, return_type)
            if self.is_awaitable(runtime_type):
                _close([runtime_type])
                raise _OffThePath
            object_type = self.ensure_valid_runtime_type(
                runtime_type, return_type, prepared.details, info, value
            )
        elif is_object_type(return_type):
            object_type = return_type
        else:
            raise _OffThePath
        is_type_of = object_type.is_type_of
        if is_type_of:
            ignored = getattr(is_type_of, IGNORES_INFO, False)
            fits = is_type_of(value, None if ignored else self._info(prepared, path))  # type: ignore[arg-type]
            if self.is_awaitable(fits) or not fits:
                _close([fits])
                raise _OffThePath
        return object_type


def _close(awaitables: Any) -> None:
    """Closes coroutines that will not be awaited, so they do not warn when collected."""
    for awaitable in awaitables:
        if isinstance(awaitable, Later):
            awaitable = awaitable.loaded
        if inspect.iscoroutine(awaitable):
            awaitable.close()
