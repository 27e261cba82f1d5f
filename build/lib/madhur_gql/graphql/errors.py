"""One policy for every error leaving the API: a stable `extensions.code`, nothing internal.

Expected errors (MadhurError) pass as they are. A database that cannot be reached becomes
SERVICE_UNAVAILABLE. Anything else is logged with a request id and masked. In production,
graphql-core's "Did you mean ...?" hints are cut from messages: they would let a client
without introspection rebuild the schema field by field.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator

import structlog
from graphql import GraphQLError
from graphql.error import GraphQLSyntaxError
from pymongo.errors import ConnectionFailure, ServerSelectionTimeoutError
from strawberry.extensions import SchemaExtension

from madhur_gql.errors import MadhurError, ServiceUnavailable

log = structlog.get_logger(__name__)

UNEXPECTED = "Unexpected error."
DATABASE_ERRORS = (ConnectionFailure, ServerSelectionTimeoutError)
# Validation (not coercion) messages about variables: a mistake in the document itself.
VARIABLE_RULES = (
    "is never used",
    "is not defined",
    "used in position expecting",
    "cannot be non-input type",
)
SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?", re.DOTALL)


def without_suggestions(error: GraphQLError) -> GraphQLError:
    message = SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(
        message=message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=error.extensions,
    )


def _with_code(error: GraphQLError, code: str, message: str | None = None) -> GraphQLError:
    return GraphQLError(
        message=message or error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={**(error.extensions or {}), "code": code},
    )


def classify(error: GraphQLError, request_id: str) -> GraphQLError:
    original = error.original_error
    if isinstance(original, MadhurError):
        return error
    if original is None:
        if isinstance(error, GraphQLSyntaxError):
            return _with_code(error, "GRAPHQL_PARSE_FAILED")
        if (
            error.path is None
            and "Variable" in error.message
            and not any(rule in error.message for rule in VARIABLE_RULES)
        ):
            return _with_code(error, "BAD_USER_INPUT")  # a value its type cannot coerce
        if error.extensions and "code" in error.extensions:
            return error
        return _with_code(
            error, "GRAPHQL_VALIDATION_FAILED" if error.path is None else "BAD_USER_INPUT"
        )
    if isinstance(original, GraphQLError):  # e.g. a variable value its type cannot coerce
        return _with_code(error, "BAD_USER_INPUT")
    if isinstance(original, UnicodeEncodeError):  # a JSON "\ud800": not storable text
        return _with_code(error, "BAD_USER_INPUT", "Text must be valid Unicode.")
    if isinstance(original, DATABASE_ERRORS):
        with contextlib.suppress(Exception):
            log.warning("database unavailable", request_id=request_id, error=str(original))
        unavailable = ServiceUnavailable("The database is unavailable; try again shortly.")
        return _with_code(error, unavailable.code, unavailable.message)
    # A failing log sink (full disk, closed stream) must not turn into an unmasked error.
    with contextlib.suppress(Exception):
        log.error(
            "unexpected error",
            request_id=request_id,
            path=error.path,
            exc_info=(type(original), original, original.__traceback__),
        )
    return _with_code(error, "INTERNAL_SERVER_ERROR", UNEXPECTED)


class ErrorPolicy(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        context = self.execution_context.context
        request_id = _request_id(context)
        result.errors = [classify(error, request_id) for error in result.errors]
        settings = getattr(context, "settings", None)
        if settings is None or settings.is_production:
            result.errors = [without_suggestions(error) for error in result.errors]
        for error in result.errors:
            if error.extensions and error.extensions.get("code") == "INTERNAL_SERVER_ERROR":
                error.extensions["requestId"] = request_id


def _request_id(context: object) -> str:
    request = getattr(context, "request", None)
    state = getattr(request, "state", None)
    return str(getattr(state, "request_id", None) or uuid.uuid4().hex)
