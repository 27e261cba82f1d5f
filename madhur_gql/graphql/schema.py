"""The one Strawberry schema, merged from the per-domain modules, and its SDL export."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import strawberry
from cachetools import LRUCache
from graphql import DocumentNode, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from madhur_gql.graphql.accounts import AccountMutation, AccountQuery
from madhur_gql.graphql.admin import AdminMutation, AdminQuery
from madhur_gql.graphql.catalog import CatalogQuery
from madhur_gql.graphql.errors import ErrorPolicy
from madhur_gql.graphql.execution import FastFieldsExecutor
from madhur_gql.graphql.feedback import FeedbackMutation, FeedbackQuery
from madhur_gql.graphql.generated import GeneratedQuery
from madhur_gql.graphql.interactions import InteractionMutation, InteractionQuery
from madhur_gql.graphql.library import LibraryMutation, LibraryQuery
from madhur_gql.graphql.observer import RequestObserver
from madhur_gql.graphql.radio import RadioQuery
from madhur_gql.graphql.recommendations import RecommendationQuery, RecommendationSubscription
from madhur_gql.graphql.transport import SubscriptionsOverWebSocket

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
# Parsing and validating the same few documents again took a quarter of a request's CPU.
# Bounded: unique query texts from clients cannot grow memory without limit.
DOCUMENT_CACHE_SIZE = 512

Query = merge_types(
    "Query",
    (
        AccountQuery,
        CatalogQuery,
        LibraryQuery,
        InteractionQuery,
        RecommendationQuery,
        RadioQuery,
        GeneratedQuery,
        FeedbackQuery,
        AdminQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (AccountMutation, InteractionMutation, LibraryMutation, FeedbackMutation, AdminMutation),
)


@strawberry.type(description="Live results, over graphql-transport-ws on /graphql.")
class Subscription(RecommendationSubscription):
    pass


Extension = Callable[[], SchemaExtension]  # a class or factory: one fresh instance per request


class DocumentCache(SchemaExtension):
    """Parsed documents by query text, for documents that passed every check and ran.

    A hit skips parsing and validation (the document was valid for this schema and its
    rules); a miss is parsed and validated by Strawberry as usual (token limit, error policy).
    Only runnable documents are kept: one over the depth, alias or cost limits, or that
    does not parse, would be refused again anyway, and holding 512 of them (each up to the
    token limit) was memory any client could fill.
    """

    def __init__(self, cache: LRUCache[str, DocumentNode]) -> None:
        self.cache = cache
        self.hit = False

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        document = self.cache.get(context.query) if context.query else None
        if document is not None:
            context.graphql_document = document
            self.hit = True
        yield

    def on_validate(self) -> Iterator[None]:
        if self.hit:
            self.execution_context.pre_execution_errors = []  # validated when it was stored
        yield

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        accepted = context.result is None and not context.pre_execution_errors
        if not self.hit and accepted and context.query and context.graphql_document is not None:
            self.cache[context.query] = context.graphql_document
        yield


class Schema(strawberry.Schema):
    document_cache: LRUCache[str, DocumentNode]

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """ErrorPolicy logs what deserves it; client mistakes are not server errors."""


def build_schema(extensions: list[Extension] | None = None) -> Schema:
    documents: LRUCache[str, DocumentNode] = LRUCache(maxsize=DOCUMENT_CACHE_SIZE)
    schema = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # Order matters: the observer is outermost (sees final error codes); the document
        # cache comes last, after the extensions that set parse options, add validation
        # rules and refuse costly operations.
        extensions=[
            RequestObserver,
            ErrorPolicy,
            SubscriptionsOverWebSocket,
            *(extensions or []),
            partial(DocumentCache, documents),
        ],
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=FastFieldsExecutor,
    )
    schema.document_cache = documents
    return schema


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
