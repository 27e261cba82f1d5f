"""The one Strawberry schema, and its SDL export (`schema.graphql`)."""

from __future__ import annotations

from pathlib import Path

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig

from madhur_gql.graphql.errors import ErrorPolicy
from madhur_gql.graphql.mutations import Mutation
from madhur_gql.graphql.queries import Query

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def build_schema(
    extensions: list[type[SchemaExtension] | SchemaExtension] | None = None,
) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=[ErrorPolicy, *(extensions or [])],
        config=StrawberryConfig(auto_camel_case=True),
    )


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
