"""Limits on what one request may ask of the server, and cross-site request forgery defence.

GraphQL lets one small request fan out into a lot of work; each control here bounds one way
(OWASP GraphQL Cheat Sheet): the body size, the token count (before parsing completes),
depth, aliases, a cost budget that multiplies by page sizes, batching (off: Strawberry
refuses a JSON array body), and introspection in production. Settings: `config.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
)
from graphql.execution import ExecutionResult
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.type import SchemaMetaFieldDef, TypeMetaFieldDef
from graphql.utilities import get_operation_ast
from graphql.validation import ValidationRule
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    SchemaExtension,
)

from madhur_gql.config import Settings
from madhur_gql.services.pagination import MAX_PAGE_SIZE

PAGE_ARGUMENTS = ("first", "last", "limit")
DEFAULT_LIST_SIZE = 10
# Unpaginated lists of objects that can be longer than DEFAULT_LIST_SIZE ("Type.field").
# Playlist.songs holds up to MAX_SONGS (1000); 100 keeps one full playlist affordable while
# 100 playlists' songs in one request is not.
LIST_SIZE_HINTS = {"Playlist.songs": 100, "Query.genres": 50}
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
SIMPLE_CONTENT_TYPES = frozenset(
    {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
)
PREFLIGHT_HEADERS = ("x-apollo-operation-name", "apollo-require-preflight")


# --- depth and aliases ----------------------------------------------------------------------
# Strawberry's QueryDepthLimiter and MaxAliasesLimiter re-walk a fragment at every spread,
# which is exponential: a 1 KB document whose fragments each spread the next ten times took
# them 9 s and 4 s. These walk each fragment once (memoised) and keep their semantics.


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def operation_aliases(document: DocumentNode, operation: OperationDefinitionNode) -> int:
    """Aliased fields in the operation, counting a fragment's once per spread."""
    fragments = _fragments(document)
    memo: dict[str, int] = {}

    def count(selection_set: SelectionSetNode | None, stack: frozenset[str]) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += (1 if selection.alias else 0) + count(selection.selection_set, stack)
            elif isinstance(selection, InlineFragmentNode):
                total += count(selection.selection_set, stack)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or name in stack:
                    continue
                if name not in memo:
                    memo[name] = count(fragment.selection_set, stack | {name})
                total += memo[name]
        return total

    return count(operation.selection_set, frozenset())


def operation_depth(document: DocumentNode, operation: OperationDefinitionNode) -> int:
    """How deep the operation's fields nest (root fields are depth 0), through fragments.

    Introspection fields (`__schema`, `__type`) are not counted, as in Strawberry: the
    parser's nesting limit and the token limit bound them, and production turns them off.
    """
    fragments = _fragments(document)
    memo: dict[str, int] = {}

    def depth(selection_set: SelectionSetNode, stack: frozenset[str]) -> int:
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__") or selection.selection_set is None:
                    continue
                deepest = max(deepest, 1 + depth(selection.selection_set, stack))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, depth(selection.selection_set, stack))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or name in stack:
                    continue  # unknown or cyclic: the standard rules report it
                if name not in memo:
                    memo[name] = depth(fragment.selection_set, stack | {name})
                deepest = max(deepest, memo[name])
        return deepest

    return depth(operation.selection_set, frozenset())


def depth_rule(max_depth: int) -> type[ValidationRule]:
    class DepthLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            found = operation_depth(self.context.document, node)
            if found > max_depth:
                name = node.name.value if node.name else "anonymous"
                self.report_error(
                    GraphQLError(
                        f"'{name}' exceeds maximum operation depth of {max_depth}",
                        node,
                        extensions={"code": "GRAPHQL_VALIDATION_FAILED", "maxDepth": max_depth},
                    )
                )

    return DepthLimit


def alias_rule(max_aliases: int) -> type[ValidationRule]:
    class AliasLimit(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> None:
            found = sum(
                operation_aliases(node, operation)
                for operation in node.definitions
                if isinstance(operation, OperationDefinitionNode)
            )
            if found > max_aliases:
                self.report_error(
                    GraphQLError(
                        f"{found} aliases found. Allowed: {max_aliases}",
                        extensions={"code": "GRAPHQL_VALIDATION_FAILED", "maxAliases": max_aliases},
                    )
                )

    return AliasLimit


# --- cost -----------------------------------------------------------------------------------


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> int:
    """An upper bound on the objects one operation can touch.

    Each field costs 1 plus its selection's cost times its page size (`first`, given or the
    schema default, at most MAX_PAGE_SIZE: resolvers refuse more themselves, with a clearer
    message), so `songs(first: 100) { edges { node { ... } } }` costs ~100x its node and
    nesting multiplies. Lists without a page argument are either scalars or bounded
    by their parent's page, and count once. Fragments are costed once each (memoised), so a
    "fragment bomb" costs what it would return, and the walk stays linear in document size.
    """
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list) or root is None:
        return 0  # bad variables: execution reports them before any resolver runs
    fragments = _fragments(document)
    memo: dict[str, int] = {}

    def selection_cost(
        selection_set: SelectionSetNode, parent: GraphQLNamedType | None, stack: frozenset[str]
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += field_cost(selection, parent, stack)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = schema.get_type(condition.name.value) if condition else parent
                total += selection_cost(selection.selection_set, target, stack)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or name in stack:
                    continue
                if name not in memo:
                    target = schema.get_type(fragment.type_condition.name.value)
                    memo[name] = selection_cost(fragment.selection_set, target, stack | {name})
                total += memo[name]
        return total

    def field_cost(node: FieldNode, parent: GraphQLNamedType | None, stack: frozenset[str]) -> int:
        definition = _field_definition(schema, parent, node.name.value)
        if definition is None:
            return 1
        if node.selection_set is None:
            return 1
        size = _page_size(definition, node, coerced)
        if size is None:  # a list without page arguments
            size = _unpaged_size(parent, node.name.value, definition)
        child = get_named_type(definition.type)
        return 1 + size * selection_cost(node.selection_set, child, stack)

    return selection_cost(operation.selection_set, root, frozenset())


def _field_definition(
    schema: GraphQLSchema, parent: GraphQLNamedType | None, name: str
) -> GraphQLField | None:
    if name == "__schema":
        return SchemaMetaFieldDef
    if name == "__type":
        return TypeMetaFieldDef
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return parent.fields.get(name)
    return None


def _unpaged_size(parent: GraphQLNamedType | None, name: str, definition: GraphQLField) -> int:
    """How many objects a list without page arguments is assumed to hold.

    `edges` of a connection are bounded by the connection's `first`, so they count once;
    so do introspection lists (bounded by the schema) and non-list fields. Other object
    lists count as LIST_SIZE_HINTS says, or DEFAULT_LIST_SIZE: add a hint when adding an
    unpaginated list that can be long.
    """
    if not isinstance(get_nullable_type(definition.type), GraphQLList):
        return 1
    parent_name = parent.name if parent else ""
    if parent_name.endswith("Connection") or parent_name.startswith("__") or name.startswith("__"):
        return 1  # edges (bounded by `first`) and introspection (bounded by the schema)
    return LIST_SIZE_HINTS.get(f"{parent_name}.{name}", DEFAULT_LIST_SIZE)


def _page_size(definition: GraphQLField, node: FieldNode, variables: VariableValues) -> int | None:
    if not any(name in definition.args for name in PAGE_ARGUMENTS):
        return None
    try:
        values = get_argument_values(definition, node, variables)
    except GraphQLError:
        return 1  # execution refuses the argument itself
    sizes = [v for name in PAGE_ARGUMENTS if isinstance(v := values.get(name), int)]
    return min(max([1, *sizes]), MAX_PAGE_SIZE)


class QueryCostLimiter(SchemaExtension):
    """Refuse, before any resolver runs, an operation whose cost is over the budget.

    It runs at execution start (validated document, known variables) and answers with
    `QUERY_TOO_COMPLEX` and the cost, so a client can see by how much it went over.
    """

    def __init__(self, max_cost: int) -> None:
        self.max_cost = max_cost

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            cost = operation_cost(
                context.schema._schema, document, context.operation_name, context.variables
            )
            if cost > self.max_cost:
                error = GraphQLError(
                    f"Query cost {cost} exceeds the maximum of {self.max_cost}; "
                    "ask for smaller pages or fewer fields.",
                    extensions={"code": QUERY_TOO_COMPLEX, "cost": cost, "maxCost": self.max_cost},
                )
                context.result = ExecutionResult(data=None, errors=[error])
        yield


def security_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """The limits as extension factories: a fresh extension per request (no shared state)."""
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(MaxTokensLimiter, max_token_count=settings.max_query_tokens),
        partial(
            AddValidationRules,
            [depth_rule(settings.max_query_depth), alias_rule(settings.max_query_aliases)],
        ),
        partial(QueryCostLimiter, max_cost=settings.max_query_cost),
    ]
    if not settings.introspection_enabled:
        extensions.append(DisableIntrospection)
    return extensions


# --- HTTP -----------------------------------------------------------------------------------


def _error_body(message: str, code: str) -> bytes:
    return json.dumps(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    ).encode()


async def _send_error(send: Send, status: int, message: str, code: str) -> None:
    body = _error_body(message, code)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _has_lone_surrogate(body: bytes) -> bool:
    """True when JSON escapes spell a lone surrogate ("\ud800"): json.loads accepts it, but
    the string cannot be encoded, and every layer that encodes it (hashing a persisted query,
    echoing an operation name, the database) would fail with a 500."""
    if not _SURROGATE_ESCAPE.search(body):
        return False  # the usual case: no escaped surrogates at all, nothing to decode
    try:
        decoded = json.loads(body)
    except ValueError:
        return False  # not JSON: Strawberry answers that itself
    stack = [decoded]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            try:
                value.encode()
            except UnicodeEncodeError:
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


class BodySizeLimitMiddleware:
    """413 for a body over `max_bytes`, declared or streamed (chunked bodies are counted);
    400 for a JSON body with text that is not valid Unicode.

    The body is read here, up to the limit, and replayed to the app: GraphQL bodies are
    small, and the app never sees a request it would have to abandon half-read.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        too_large = f"Request body too large (at most {self.max_bytes} bytes)."
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _send_error(send, 413, too_large, "PAYLOAD_TOO_LARGE")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _send_error(send, 413, too_large, "PAYLOAD_TOO_LARGE")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _has_lone_surrogate(body):
            await _send_error(
                send,
                400,
                "The request holds text that is not valid Unicode (a lone surrogate escape).",
                "BAD_USER_INPUT",
            )
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class CSRFPreventionMiddleware:
    """Apollo Server's CSRF prevention for `path`.

    A browser sends a cross-site GET or a POST with a "simple" content type (text/plain,
    form-urlencoded, multipart) without asking the server first (no CORS preflight). Such a
    request is refused unless it carries a preflight header (`apollo-require-preflight` or
    `x-apollo-operation-name`), which a cross-site page can only add after a preflight that
    CORS decides. JSON POSTs (what every GraphQL client sends) pass. A GET without a query
    (the GraphiQL page) passes; GET can never run a mutation anyway (Strawberry refuses).
    """

    def __init__(self, app: ASGIApp, path: str = "/graphql") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != self.path
            or scope["method"] not in ("GET", "POST")
            or self._safe(scope)
        ):
            await self.app(scope, receive, send)
            return
        await _send_error(
            send,
            400,
            "This request has been blocked as a potential cross-site request forgery. Send it "
            "with a content-type other than application/x-www-form-urlencoded, "
            "multipart/form-data or text/plain, or with a non-empty "
            "'apollo-require-preflight' header.",
            "CSRF_PREVENTED",
        )

    @staticmethod
    def _safe(scope: Scope) -> bool:
        headers = Headers(scope=scope)
        query_string = scope.get("query_string", b"")
        if scope["method"] == "GET" and not any(
            key in query_string for key in (b"query=", b"extensions=")
        ):
            return True  # no operation (the IDE page): nothing runs
        content_type = headers.get("content-type")
        if content_type is not None:
            media_type = content_type.split(";", 1)[0].strip().lower()
            if media_type and media_type not in SIMPLE_CONTENT_TYPES:
                return True
        return any(headers.get(name, "").strip() for name in PREFLIGHT_HEADERS)


class SecurityHeadersMiddleware:
    """Headers on every HTTP response, unless the route set its own.

    `no-store` because GraphQL answers carry tokens and personal data that no shared cache
    or browser history should keep; `nosniff` so a JSON error is never run as a script;
    `frame-ancestors 'none'` / `DENY` so no page can frame GraphiQL and click for a user.
    """

    HEADERS = (
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", b"frame-ancestors 'none'"),
        (b"cache-control", b"no-store"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in self.HEADERS if name not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
