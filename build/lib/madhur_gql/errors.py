"""Errors a client is meant to see. Each carries the `extensions.code` clients branch on.

Anything else raised in a resolver is masked as "Unexpected error." by the GraphQL layer.
"""

from __future__ import annotations

from typing import Any


class MadhurError(Exception):
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": self.code, **extra}


class BadUserInput(MadhurError):
    code = "BAD_USER_INPUT"


class Unauthenticated(MadhurError):
    code = "UNAUTHENTICATED"


class Forbidden(MadhurError):
    code = "FORBIDDEN"


class NotFound(MadhurError):
    code = "NOT_FOUND"


class Conflict(MadhurError):
    code = "CONFLICT"


class TooManyRequests(MadhurError):
    code = "TOO_MANY_REQUESTS"


class ServiceUnavailable(MadhurError):
    code = "SERVICE_UNAVAILABLE"
