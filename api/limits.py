"""What one GraphQL operation may ask for: depth, aliases and cost, each computed before it runs.

Every count here walks the document once: a fragment's depth, aliases and cost are computed the
first time it is spread and reused after, so a document cannot make the checks themselves slow
(fragments that spread the next one twice, forty deep, cost forty walks, not 2**40).

The cost of an operation is the number of objects its answer can hold at most: each field
whose type is an object counts 1 for every object it can return, and a list multiplies the cost
of its selection by the number of items it can return; scalar and enum fields are free. The
number of items is, in this order: the field's `first` (the default page size without it, at
most the largest page size); the bound declared for it in ``LIST_BOUNDS``; for a connection's
`edges` and `nodes`, 1 (its `first` already counts them); else ``DEFAULT_LIST_BOUND``.
"""

import datetime
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from strawberry.extensions import SchemaExtension

from api.common.pagination import DEFAULT_PAGE_SIZE
from domain.goals.queries import largest_goal_size
from domain.goals.validation import MAX_CONTRIBUTORS
from domain.history import DEFAULT_HISTORY_DAYS, MAX_HISTORY_DAYS
from domain.periods import MAX_GOAL_YEARS

# ---------------------------------------------------------------- list bounds

# A goal lasts less than MAX_GOAL_YEARS years: at most this many days, two of them leap days.
MAX_GOAL_DAYS = MAX_GOAL_YEARS * 365 + 2
MAX_NODES = 100


def weeks_touched(days: int) -> int:
    """The most calendar weeks that ``days`` consecutive days can overlap."""
    return (days + 12) // 7


MAX_MILESTONES = weeks_touched(MAX_GOAL_DAYS)

Arguments = Mapping[str, Any]
Bound = int | Callable[[Arguments], int]


def _part(value: Any, *names: str) -> Any:
    """A field of an input object, whether it arrived as a dict or as the input class."""
    for name in names:
        found = value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)
        if found is not None:
            return found
    return None


def _date(value: Any) -> datetime.date | None:
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return value if isinstance(value, datetime.date) else None


def _days(first: Any, last: Any) -> int | None:
    """Days from ``first`` to ``last``, both included; None when either is open or unreadable."""
    first, last = _date(first), _date(last)
    if first is None or last is None or first > last:
        return None
    return (last - first).days + 1


def milestones_in_range(arguments: Arguments) -> int:
    """A contributor goal's milestones, or only those overlapping a closed `range`."""
    window = arguments.get("range")
    days = None if window is None else _days(_part(window, "from_", "from"), _part(window, "to"))
    return MAX_MILESTONES if days is None else min(MAX_MILESTONES, weeks_touched(days))


def history_points(arguments: Arguments) -> int:
    """One point a day: the days between `from` and `to`, else the default span."""
    days = _days(arguments.get("from"), arguments.get("to"))
    if days is None:
        return DEFAULT_HISTORY_DAYS
    return min(days, MAX_HISTORY_DAYS)


GOAL_CONTRIBUTORS = "Goal.contributors"

# The one place a list field's largest length is declared, as "Type.field". A list without an
# entry (and without `first`) counts as DEFAULT_LIST_BOUND items.
LIST_BOUNDS: dict[str, Bound] = {
    # By the largest goal the product allows; an operation over the limit by this bound is
    # counted again by the largest goal of the caller's account.
    GOAL_CONTRIBUTORS: MAX_CONTRIBUTORS,
    "ContributorGoal.milestones": milestones_in_range,
    "ContributorGoal.history": history_points,
    "Query.milestonePreview": MAX_MILESTONES,
    "Query.nodes": MAX_NODES,
    # References to the account's pipelines (a handful per goal, shared by its milestones and
    # read once per request): a list of them counts as one object.
    "Goal.pipelines": 1,
    "Milestone.pipelines": 1,
}
DEFAULT_LIST_BOUND = 100
CONNECTION_LISTS = frozenset({"edges", "nodes"})


# ---------------------------------------------------------------- walking a document


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


class _Memo:
    """Per-fragment results of one walk; a fragment met again while it is being computed (a
    cycle, which validation reports on its own) counts as nothing."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.done: dict[str, int] = {}
        self.open: set[str] = set()

    def of(self, name: str, compute: Callable[[FragmentDefinitionNode], int]) -> int:
        if name in self.done:
            return self.done[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.open:
            return 0
        self.open.add(name)
        try:
            result = self.done[name] = compute(fragment)
        finally:
            self.open.discard(name)
        return result


def operation_depth(operation: OperationDefinitionNode, memo: _Memo) -> int:
    """Nesting of the deepest field that has a selection, introspection left out: ``{ a { b } }``
    has depth 1."""

    def depth(selection_set: SelectionSetNode | None) -> int:
        deepest = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                if selection.selection_set and not selection.name.value.startswith("__"):
                    deepest = max(deepest, 1 + depth(selection.selection_set))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, depth(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                deepest = max(deepest, memo.of(selection.name.value, _depth_of))
        return deepest

    def _depth_of(fragment: FragmentDefinitionNode) -> int:
        return depth(fragment.selection_set)

    return depth(operation.selection_set)


def operation_aliases(operation: OperationDefinitionNode, memo: _Memo) -> int:
    """Aliased fields, each spread of a fragment counting the fragment's aliases again."""

    def aliases(selection_set: SelectionSetNode | None) -> int:
        count = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                count += (selection.alias is not None) + aliases(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                count += aliases(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                count += memo.of(selection.name.value, _aliases_of)
        return count

    def _aliases_of(fragment: FragmentDefinitionNode) -> int:
        return aliases(fragment.selection_set)

    return aliases(operation.selection_set)


def depth_and_alias_rule(max_depth: int, max_aliases: int) -> type[ValidationRule]:
    class DepthAndAliasLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            fragments = _fragments(document)
            depth_memo, alias_memo = _Memo(fragments), _Memo(fragments)
            for definition in document.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                name = definition.name.value if definition.name else "anonymous"
                if operation_depth(definition, depth_memo) > max_depth:
                    context.report_error(
                        GraphQLError(
                            f"'{name}' exceeds maximum operation depth of {max_depth}",
                            definition,
                        )
                    )
                aliases = operation_aliases(definition, alias_memo)
                if aliases > max_aliases:
                    context.report_error(
                        GraphQLError(
                            f"'{name}' has {aliases} aliases found. Allowed: {max_aliases}",
                            definition,
                        )
                    )

    return DepthAndAliasLimit


# ---------------------------------------------------------------- cost


@dataclass
class CostCounter:
    """The cost of one operation of a validated document, for known variable values."""

    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: VariableValues
    max_page_size: int
    # Bounds that replace LIST_BOUNDS' for this count: what the caller's account really holds.
    known_bounds: Mapping[str, int] = dataclass_field(default_factory=dict)

    def __post_init__(self) -> None:
        self.memo = _Memo(self.fragments)
        self.bounded: set[str] = set()

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        return 0 if root is None else self.selection(operation.selection_set, root)

    def selection(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType) -> int:
        cost = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                cost += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                cost += self.selection(selection.selection_set, inner or parent)
            elif isinstance(selection, FragmentSpreadNode):
                cost += self.memo.of(selection.name.value, self._fragment)
        return cost

    def _fragment(self, fragment: FragmentDefinitionNode) -> int:
        condition = self.schema.get_type(fragment.type_condition.name.value)
        return 0 if condition is None else self.selection(fragment.selection_set, condition)

    def field(self, node: FieldNode, parent: GraphQLNamedType) -> int:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0  # __typename on a union
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 0  # introspection's __schema and __type answer from memory
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        items = self.items(parent.name, node, definition)
        return items * (1 + self.selection(node.selection_set, named))

    def items(self, parent_name: str, node: FieldNode, definition: GraphQLField) -> int:
        arguments = self._arguments(node, definition)
        if "first" in definition.args:
            first = arguments.get("first")
            if not isinstance(first, int):
                return min(DEFAULT_PAGE_SIZE, self.max_page_size)
            return max(0, min(first, self.max_page_size))
        name = f"{parent_name}.{node.name.value}"
        bound = LIST_BOUNDS.get(name)
        if bound is not None:
            self.bounded.add(name)
            if name in self.known_bounds:
                return self.known_bounds[name]
            return bound(arguments) if callable(bound) else bound
        field_type = definition.type
        if isinstance(field_type, GraphQLNonNull):
            field_type = field_type.of_type
        if not isinstance(field_type, GraphQLList):
            return 1
        if parent_name.endswith("Connection") and node.name.value in CONNECTION_LISTS:
            return 1
        return DEFAULT_LIST_BOUND

    def _arguments(self, node: FieldNode, definition: GraphQLField) -> dict[str, Any]:
        if not definition.args:
            return {}
        try:
            return get_argument_values(definition, node, self.variables)
        except GraphQLError:
            return {}  # execution reports the bad argument


def cost_counter(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    max_page_size: int,
) -> tuple[CostCounter, OperationDefinitionNode] | None:
    """A counter for the operation that will run; None when it cannot run (execution says
    why)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return None
    operation = operations[0]
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if not isinstance(coerced, VariableValues):
        return None
    return CostCounter(schema, _fragments(document), coerced, max_page_size), operation


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    max_page_size: int,
) -> int | None:
    """The cost of the operation that will run, by the product's largest goal; None when it
    cannot run."""
    counted = cost_counter(schema, document, operation_name, variables, max_page_size)
    return None if counted is None else counted[0].operation(counted[1])


def cost_message(cost: int, limit: int) -> str:
    return (
        f"This operation could return {cost:,} objects, more than the limit of {limit:,} "
        "(GOALS_MAX_QUERY_COST). Ask for fewer items: a smaller `first`, a narrower range, "
        "or fewer nested lists."
    )


def cost_limiter(max_cost: int, max_page_size: int) -> type[SchemaExtension]:
    class QueryCostLimit(SchemaExtension):
        """Refuses, before it runs, an operation whose answer could be too large."""

        async def on_execute(self) -> AsyncIterator[None]:
            context = self.execution_context
            document = context.graphql_document
            if document is not None and context.result is None:
                cost = await self._cost(document)
                if cost is not None and cost > max_cost:
                    context.result = ExecutionResult(
                        data=None,
                        errors=[
                            GraphQLError(
                                cost_message(cost, max_cost),
                                extensions={"code": "QUERY_TOO_COSTLY", "cost": cost},
                            )
                        ],
                    )
            yield

        async def _cost(self, document: DocumentNode) -> int | None:
            """The cost by the largest goal the product allows; when that is over the limit
            and a goal's contributors counted, again by the largest goal of the caller's
            account (one query, only for such operations)."""
            context = self.execution_context
            counted = cost_counter(
                context.schema._schema,
                document,
                context.operation_name,
                context.variables,
                max_page_size,
            )
            if counted is None:
                return None
            counter, operation = counted
            cost = counter.operation(operation)
            viewer = getattr(context.context, "viewer", None)
            if cost <= max_cost or GOAL_CONTRIBUTORS not in counter.bounded or viewer is None:
                return cost
            largest = await largest_goal_size(viewer.account_id)
            known = replace(counter, known_bounds={GOAL_CONTRIBUTORS: largest})
            return known.operation(operation)

    return QueryCostLimit
