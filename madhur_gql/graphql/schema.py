"""The one Strawberry schema, merged from the per-domain modules, and its SDL export."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
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

Query = merge_types(
    "Query", (AccountQuery, CatalogQuery, LibraryQuery, InteractionQuery, RecommendationQuery)
)
Mutation = merge_types(
    "Mutation", (AccountMutation, InteractionMutation, LibraryMutation, AdminMutation)
)

Extension = Callable[[], SchemaExtension]  # a class or factory: one fresh instance per request


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """ErrorPolicy logs what deserves it; client mistakes are not server errors."""


def build_schema(extensions: list[Extension] | None = None) -> strawberry.Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        extensions=[RequestObserver, ErrorPolicy, *(extensions or [])],
        config=StrawberryConfig(auto_camel_case=True),
    )


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
