"""Cache hints: anonymous catalog reads may sit in a CDN for a short while; the rest never.

An answer is `public, max-age=N` (MADHUR_CATALOG_CACHE_SECONDS) only when the request carries
no Authorization header at all, is a query, asks only for catalog root fields
(CATALOG_FIELDS: the same for every anonymous caller) and got no error. Everything else keeps
the `no-store` the security middleware gives every answer. `Vary: Authorization`, so a cache
never hands a logged-in listener (whose `likedByMe` differs) a page stored for nobody.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import FieldNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

CATALOG_FIELDS = frozenset({"song", "songs", "artist", "artists", "genres", "__typename"})


class CacheHints(SchemaExtension):
    def __init__(self, *, max_age: int, execution_context: Any = None) -> None:
        self.max_age = max_age
        if execution_context is not None:
            self.execution_context = execution_context

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        response = getattr(context, "response", None)
        if response is None or not self._cacheable(context):
            return
        response.headers["cache-control"] = f"public, max-age={self.max_age}"
        response.headers["vary"] = "Authorization"

    def _cacheable(self, context: Any) -> bool:
        execution = self.execution_context
        result = execution.result
        if result is None or result.errors or "authorization" in context.request.headers:
            return False
        if execution.operation_type is not OperationType.QUERY:
            return False
        return root_fields(execution.graphql_document, execution.operation_name) <= CATALOG_FIELDS


def root_fields(document: Any, operation_name: str | None) -> set[str]:
    """The root field names of the operation that ran; a fragment at the root counts as
    unknown (so the answer is not cached)."""
    operations = [
        d
        for d in (document.definitions if document else ())
        if isinstance(d, OperationDefinitionNode)
        and (operation_name is None or (d.name and d.name.value == operation_name))
    ]
    if len(operations) != 1:
        return {"?"}
    names = set()
    for selection in operations[0].selection_set.selections:
        names.add(selection.name.value if isinstance(selection, FieldNode) else "?")
    return names
