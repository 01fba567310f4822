"""Assembles the features' queries and mutations into one schema with its limits."""

from collections.abc import Callable
from functools import partial

import strawberry
import structlog
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from api.account.mutations import AccountMutation
from api.account.queries import AccountQuery
from api.common.direct_fields import resolve_fields_directly
from api.common.errors import should_mask_error
from api.common.level_execution import LevelExecutor
from api.common.text import RefuseNulText
from api.directory.mutations import DirectoryMutation
from api.directory.queries import DirectoryQuery
from api.goals.mutations import GoalMutation
from api.goals.queries import GoalQuery
from api.insight.queries import InsightQuery
from api.limits import cost_limiter, depth_and_alias_rule
from api.node.queries import NodeQuery
from api.notifications.mutations import NotificationMutation
from api.notifications.queries import NotificationQuery
from api.observability import request_id_var
from api.records.mutations import RecordMutation
from api.response_cache import MarkCacheable
from domain.settings import Settings, get_settings

log = structlog.get_logger("api")

# Distinct documents whose parse and validation are kept: clients send a few operations, over
# and over; a document outside the cache is parsed and validated again, with the same limits.
DOCUMENT_CACHE_SIZE = 256

QUERIES: tuple[type, ...] = (
    AccountQuery,
    DirectoryQuery,
    GoalQuery,
    InsightQuery,
    NodeQuery,
    NotificationQuery,
)
MUTATIONS: tuple[type, ...] = (
    AccountMutation,
    DirectoryMutation,
    RecordMutation,
    GoalMutation,
    NotificationMutation,
)


QUERY_DESCRIPTION = (
    "What the viewer (the owner of the bearer token) may read, within their account: goals as "
    "far as their seat and reach allow, the directory, their own notifications and tokens."
)
MUTATION_DESCRIPTION = (
    "Changes, each validated whole before anything is written: a refused input changes nothing "
    "and says why in `userErrors` (with `allowPartial`, upserts apply the valid items)."
)


def _root(name: str, features: tuple[type, ...], description: str) -> type:
    """The features' fields merged into one root type, with its own description."""
    merged = merge_types(name, features)
    merged.__strawberry_definition__.description = description  # type: ignore[attr-defined]
    return merged


class GoalsSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if should_mask_error(error):
                log.error(
                    "unexpected error",
                    path=error.path,
                    exc_info=error.original_error,
                    request_id=request_id_var.get(),
                )
            else:
                log.info("graphql error", message=error.message, path=error.path)


def _masked_message() -> str:
    return f"Unexpected error. Request id: {request_id_var.get() or 'unknown'}."


class RequestMaskErrors(MaskErrors):
    """MaskErrors whose message carries the request id, so a report can be matched to the log."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        self.error_message = _masked_message()
        return super().anonymise_error(error)


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or get_settings()
    # Marking answers the response cache may keep is work for every operation: only with it.
    extensions: list[Callable[..., SchemaExtension]] = (
        [MarkCacheable] if settings.response_cache else []
    )
    extensions += [
        # Comments count as tokens too (graphql-core's max_tokens counts them). The limit is an
        # argument of the cached parse: a document over it fails to parse, and a failure is
        # never cached.
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        partial(ParserCache, maxsize=DOCUMENT_CACHE_SIZE),
        partial(
            AddValidationRules,
            [depth_and_alias_rule(settings.max_query_depth, settings.max_aliases)],
        ),
        # Keyed by the parsed document and the rules, the depth and alias limits among them.
        partial(ValidationCache, maxsize=DOCUMENT_CACHE_SIZE),
        partial(RequestMaskErrors, should_mask_error=should_mask_error),
        RefuseNulText,
        cost_limiter(settings.max_query_cost, settings.max_page_size),
    ]
    if not settings.introspection:
        from graphql.validation import NoSchemaIntrospectionCustomRule

        extensions.append(partial(AddValidationRules, [NoSchemaIntrospectionCustomRule]))
    schema = GoalsSchema(
        query=_root("Query", QUERIES, QUERY_DESCRIPTION),
        mutation=_root("Mutation", MUTATIONS, MUTATION_DESCRIPTION),
        extensions=extensions,
        execution_context_class=LevelExecutor,
    )
    resolve_fields_directly(schema)
    return schema


schema = build_schema()
