"""Text the database can store: PostgreSQL's text types cannot hold the NUL character and no
UTF-8 text can hold a lone surrogate (JSON's "\\ud800" escapes make one), so an operation whose
strings carry either is refused before it runs, whichever field it is in."""

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, ExecutionResult, GraphQLError, StringValueNode, visit
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

NUL = "\x00"
NUL_MESSAGE = "Text cannot contain the NUL character (U+0000)."
SURROGATE_MESSAGE = "Text cannot contain a lone surrogate (U+D800 to U+DFFF); send UTF-8 text."
SURROGATE = re.compile("[\ud800-\udfff]")


def _strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value, keys included; a loop, so any nesting depth is fine."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)


def text_problem(value: Any) -> str | None:
    """Why some string in ``value`` cannot be stored, or None."""
    for text in _strings(value):
        if NUL in text:
            return NUL_MESSAGE
        if SURROGATE.search(text):
            return SURROGATE_MESSAGE
    return None


class _LiteralProblem(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.problem: str | None = None

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        self.problem = self.problem or text_problem(node.value)


@lru_cache(maxsize=256)
def literal_problem(document: DocumentNode) -> str | None:
    """Why some string literal of ``document`` cannot be stored, or None: a pure function of the
    document, kept for the parsed documents that come back (nodes hash by identity)."""
    literals = _LiteralProblem()
    visit(document, literals)
    return literals.problem


class RefuseNulText(SchemaExtension):
    """Answers an operation with NUL or a lone surrogate in a variable or a string literal with
    one clear error."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        problem = text_problem(context.variables)
        if problem is None and context.graphql_document is not None:
            problem = literal_problem(context.graphql_document)
        if problem:
            context.result = ExecutionResult(data=None, errors=[GraphQLError(problem)])
        yield
