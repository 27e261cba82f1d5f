"""Automatic persisted queries, Apollo's protocol: clients send a hash instead of the query.

A client first sends only `extensions.persistedQuery = {version: 1, sha256Hash}`. On a miss
the answer is a PERSISTED_QUERY_NOT_FOUND error and the client retries with the query and
the hash, which registers it (after checking the hash, so nobody can plant a query under
another's hash). Later requests, GETs included, carry only the hash: small and cacheable by
CDNs. The cache is an in-process LRU: a miss costs one round trip, never a wrong answer.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from threading import Lock

from cachetools import LRUCache
from graphql import GraphQLError
from strawberry.http import GraphQLRequestData

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
BAD_USER_INPUT = "BAD_USER_INPUT"


def sha256_hex(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


class PersistedQueryCache:
    """Hash → query text, least recently used dropped first; safe across threads."""

    def __init__(self, max_size: int) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self.max_size = max_size
        self._queries: LRUCache[str, str] = LRUCache(maxsize=max_size)
        self._lock = Lock()  # a cachetools cache reorders itself on reads: not thread-safe

    def __len__(self) -> int:
        return len(self._queries)

    def get(self, sha256_hash: str) -> str | None:
        with self._lock:
            return self._queries.get(sha256_hash)

    def put(self, sha256_hash: str, query: str) -> None:
        with self._lock:
            self._queries[sha256_hash] = query


class PersistedQueryError(Exception):
    """A request the APQ protocol refuses, answered as a GraphQL request error."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def as_graphql_error(self) -> GraphQLError:
        extensions = {"code": self.code}
        if self.code == BAD_USER_INPUT:
            extensions["reason"] = HASH_MISMATCH
        return GraphQLError(self.message, extensions=extensions)


def resolve(
    request: GraphQLRequestData, cache: PersistedQueryCache
) -> tuple[GraphQLRequestData, str | None]:
    """The request with its query filled in from the cache, and the hash to register the
    query under once it has run (`register`), or None.

    Nothing is parsed here: the query goes through the same parse (with the token limit),
    validation and cost checks as any other, and only a document that passed them and ran is
    stored, so the cache never holds one that cannot run. Requests without
    `extensions.persistedQuery` pass unchanged.
    """
    extension = (request.extensions or {}).get("persistedQuery")
    if extension is None:
        return request, None
    if not isinstance(extension, dict) or extension.get("version") != 1:
        raise PersistedQueryError("Only persisted query version 1 is supported.", NOT_SUPPORTED)
    sha256_hash = extension.get("sha256Hash")
    if not isinstance(sha256_hash, str) or not sha256_hash:
        raise PersistedQueryError("persistedQuery needs a sha256Hash.", BAD_USER_INPUT)
    sha256_hash = sha256_hash.lower()

    if request.query is None:
        query = cache.get(sha256_hash)
        if query is None:
            raise PersistedQueryError("PersistedQueryNotFound", NOT_FOUND)
        return replace(request, query=query), None

    if sha256_hex(request.query) != sha256_hash:
        raise PersistedQueryError("provided sha does not match query", BAD_USER_INPUT)
    return request, sha256_hash


def register(cache: PersistedQueryCache, sha256_hash: str, query: str, ran: bool) -> None:
    """Store a registration whose document ran (passed parse, validation and cost)."""
    if ran:
        cache.put(sha256_hash, query)
