"""Trusted documents: a production server that runs only the operations its clients ship.

With MADHUR_TRUSTED_DOCUMENTS naming a manifest (Apollo's persisted query manifest format, as
`make trusted-documents` writes it from examples/operations, which the web client's generated
documents are made from), a request runs only when its document is on that list: sent by
hash (`extensions.persistedQuery.sha256Hash`, the manifest's id) or as full text that prints
the same as a listed document (whitespace and comments do not matter). Anything else is
refused with PERSISTED_QUERY_NOT_IN_LIST before parsing, as Apollo's safelisting and GraphQL
Yoga's trusted documents do; automatic persisted queries cannot register new ones then.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from threading import Lock

from cachetools import LRUCache
from graphql import GraphQLError, GraphQLSyntaxError, parse, print_ast
from strawberry.http import GraphQLRequestData

from madhur_gql.graphql.persisted_queries import sha256_hex

NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
MANIFEST_FORMAT = "apollo-persisted-query-manifest"


def normalise(document: str) -> str:
    """One spelling per document: parsed and printed (raises GraphQLSyntaxError)."""
    return print_ast(parse(document))


class NotTrusted(Exception):
    def as_graphql_error(self) -> GraphQLError:
        return GraphQLError(
            "This operation is not on this server's list of trusted documents.",
            extensions={"code": NOT_IN_LIST},
        )


class TrustedDocuments:
    """Listed documents by id, and the ids of their normalised text."""

    def __init__(self, bodies: dict[str, str]) -> None:
        self.bodies = bodies
        self._by_text = {sha256_hex(normalise(body)): key for key, body in bodies.items()}
        self._seen: LRUCache[str, str | None] = LRUCache(maxsize=1024)  # query text -> id
        self._lock = Lock()

    @classmethod
    def load(cls, path: Path) -> TrustedDocuments:
        """A manifest, checked: the right format, and each id the sha256 of its body."""
        manifest = json.loads(path.read_text())
        if manifest.get("format") != MANIFEST_FORMAT or manifest.get("version") != 1:
            raise ValueError(f"{path}: not an {MANIFEST_FORMAT} version 1")
        bodies: dict[str, str] = {}
        for operation in manifest["operations"]:
            body, key = operation["body"], operation["id"]
            if sha256_hex(body) != key:
                raise ValueError(f"{path}: {operation.get('name')}: id is not the body's sha256")
            bodies[key] = body
        return cls(bodies)

    def resolve(self, request: GraphQLRequestData) -> GraphQLRequestData:
        """The request with its listed document; NotTrusted when it names none."""
        extension = (request.extensions or {}).get("persistedQuery")
        if request.query is None:
            key = extension.get("sha256Hash") if isinstance(extension, dict) else None
            body = self.bodies.get(key.lower()) if isinstance(key, str) else None
            if body is None:
                raise NotTrusted
            return replace(request, query=body)
        if self._listed_id(request.query) is None:
            raise NotTrusted
        return request

    def _listed_id(self, query: str) -> str | None:
        with self._lock:
            if query in self._seen:
                return self._seen[query]
        try:
            found = self._by_text.get(sha256_hex(normalise(query)))
        except GraphQLSyntaxError:
            found = None
        with self._lock:
            self._seen[query] = found
        return found
