"""Text the database can store: PostgreSQL's text types cannot hold the NUL character, so an
operation whose strings carry one is refused before it runs, whichever field it is in."""

from collections.abc import Iterator
from typing import Any

from graphql import ExecutionResult, GraphQLError, StringValueNode, visit
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

NUL = "\x00"
NUL_MESSAGE = "Text cannot contain the NUL character (U+0000)."


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(item) for item in value)
    return False


class _LiteralWithNul(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if NUL in node.value:
            self.found = True


class RefuseNulText(SchemaExtension):
    """Answers an operation with NUL in a variable or a string literal with one clear error."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        found = _holds_nul(context.variables)
        if not found and context.graphql_document is not None:
            literals = _LiteralWithNul()
            visit(context.graphql_document, literals)
            found = literals.found
        if found:
            context.result = ExecutionResult(data=None, errors=[GraphQLError(NUL_MESSAGE)])
        yield
