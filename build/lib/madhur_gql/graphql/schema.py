"""The one Strawberry schema, merged from the per-domain modules, and its SDL export."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from madhur_gql.graphql.accounts import AccountMutation, AccountQuery
from madhur_gql.graphql.admin import AdminMutation
from madhur_gql.graphql.catalog import CatalogQuery
from madhur_gql.graphql.errors import ErrorPolicy
from madhur_gql.graphql.interactions import InteractionMutation, InteractionQuery
from madhur_gql.graphql.library import LibraryMutation, LibraryQuery
from madhur_gql.graphql.recommendations import RecommendationQuery
from madhur_gql.observability import RequestObserver

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
# Parsing and validating the same few documents again took a quarter of a request's CPU.
# Bounded: unique query texts from clients cannot grow memory without limit.
DOCUMENT_CACHE_SIZE = 512

Query = merge_types(
    "Query", (AccountQuery, CatalogQuery, LibraryQuery, InteractionQuery, RecommendationQuery)
)
Mutation = merge_types(
    "Mutation", (AccountMutation, InteractionMutation, LibraryMutation, AdminMutation)
)

Extension = Callable[[], SchemaExtension]  # a class or factory: one fresh instance per request


class DocumentCache(ParserCache):
    """ParserCache that leaves documents which do not parse to Strawberry's own parse step.

    A syntax error raised inside the cache's hook would skip the error policy, and the client
    would get no `extensions.code`; parsed again by Strawberry, it is reported as usual.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """ErrorPolicy logs what deserves it; client mistakes are not server errors."""


def build_schema(extensions: list[Extension] | None = None) -> strawberry.Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        # Order matters: the observer is outermost (sees final error codes); the caches come
        # last, after the extensions that set parse options and add validation rules.
        extensions=[
            RequestObserver,
            ErrorPolicy,
            *(extensions or []),
            partial(DocumentCache, maxsize=DOCUMENT_CACHE_SIZE),
            partial(ValidationCache, maxsize=DOCUMENT_CACHE_SIZE),
        ],
        config=StrawberryConfig(auto_camel_case=True),
    )


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
