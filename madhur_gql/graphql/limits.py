"""Limits on what one GraphQL operation may ask of the server.

GraphQL lets one small request fan out into a lot of work; each control here bounds one way
(OWASP GraphQL Cheat Sheet): the token count (before parsing completes),
depth, aliases, a cost budget that multiplies by page sizes, batching (off: Strawberry
refuses a JSON array body), and introspection in production. The body size limit is HTTP's:
`http/middleware.py`. Settings: `config.py`.
"""

from __future__ import annotations

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
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    SchemaExtension,
)

from madhur_gql.config import Settings
from madhur_gql.graphql.cursors import MAX_PAGE_SIZE

PAGE_ARGUMENTS = ("first", "last", "limit")
DEFAULT_LIST_SIZE = 10
# Unpaginated lists of objects that can be longer than DEFAULT_LIST_SIZE ("Type.field").
# Playlist.songs holds up to MAX_SONGS (1000); 100 keeps one full playlist affordable while
# 100 playlists' songs in one request is not.
LIST_SIZE_HINTS = {"Playlist.songs": 100, "Query.genres": 50}
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"


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
