"""Limits on what one GraphQL operation may ask of the server.

GraphQL lets one small request fan out into a lot of work; each control here bounds one way
(OWASP GraphQL Cheat Sheet): the token count (before parsing completes),
depth, aliases, a cost budget that multiplies by page sizes, batching (off: Strawberry
refuses a JSON array body), and introspection in production. The body size limit is HTTP's:
`http/middleware.py`. Settings: `config.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.validation import ValidationRule
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    SchemaExtension,
)

from madhur_gql.config import Settings
from madhur_gql.graphql.budget import CostBudget
from madhur_gql.graphql.cost import cost_extension

# --- tokens, before the parser ---
# graphql-core's parser stops at the token limit, but it is pure Python: on this machine the
# 2,000 tokens it reads before stopping took 0.2-0.4 s under load, and twenty such documents
# in a row stalled the loop for seconds. This counts tokens with one compiled pattern (C
# speed, ~1 ms for 100 kB), so a document over the limit is refused without being parsed.
# Strings, block strings and comments are matched whole, so their contents never count.
_TOKEN = re.compile(
    r'"""(?:\\"""|[^"]|"(?!""))*"""'  # block string
    r'|"(?:\\.|[^"\\\n])*"'  # string
    r"|#[^\n\r]*"  # comment (not a token)
    r"|\.\.\.|[!$&():=@\[\]{|}]"  # punctuators
    r"|-?[0-9][0-9A-Za-z_.+-]*"  # numbers
    r"|[_A-Za-z][_0-9A-Za-z]*"  # names
)


def over_token_limit(query: str, max_tokens: int) -> bool:
    """Whether `query` holds more than `max_tokens` GraphQL tokens (comments do not count)."""
    count = 0
    for match in _TOKEN.finditer(query):
        if not match.group().startswith("#"):
            count += 1
            if count > max_tokens:
                return True
    return False


def token_limit_error(max_tokens: int) -> GraphQLError:
    """The refusal graphql-core's parser gives, with the code the error policy gives it."""
    return GraphQLError(
        f"Syntax Error: Document contains more than {max_tokens} tokens. Parsing aborted.",
        extensions={"code": "GRAPHQL_PARSE_FAILED"},
    )


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


def security_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """The limits as extension factories: a fresh extension per request (no shared state)."""
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(MaxTokensLimiter, max_token_count=settings.max_query_tokens),
        partial(
            AddValidationRules,
            [depth_rule(settings.max_query_depth), alias_rule(settings.max_query_aliases)],
        ),
        cost_extension(
            settings.max_query_cost,
            CostBudget(settings.client_cost_budget, settings.client_cost_window_seconds),
            settings.operation_timeout,
        ),
    ]
    if not settings.introspection_enabled:
        extensions.append(DisableIntrospection)
    return extensions
