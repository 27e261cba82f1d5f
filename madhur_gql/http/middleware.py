"""ASGI middlewares: request ids, metrics, security headers, body limits and CSRF defence.

Each wraps the whole app, so a request refused here never reaches GraphQL; refusals answer
in GraphQL's error shape (`errors[].extensions.code`) so clients handle them like any other.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import uuid
from typing import Any
from urllib.parse import parse_qsl

import structlog
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from madhur_gql.http.envelope import send_refusal
from madhur_gql.metrics import KNOWN_PATHS, Metrics

SIMPLE_CONTENT_TYPES = frozenset(
    {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
)
PREFLIGHT_HEADERS = ("x-apollo-operation-name", "apollo-require-preflight")


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


_LONG_NUMBER = re.compile(rb"\d{%d}" % (sys.get_int_max_str_digits() + 1))


def _undecodable(body: bytes) -> str | None:
    """Why a JSON body holds what no later layer can take, or None.

    Python's `json.loads` accepts what fails later, each with a 500 before: lone surrogate
    escapes ("\ud800") and integers longer than Python converts (4,300 digits). Bytes that
    are not UTF-8 (surrogates written as raw bytes among them) are the view's to refuse: it
    decodes strictly, where `json.loads` would let them through ("surrogatepass").
    """
    if _has_lone_surrogate(body):
        return "The request holds text that is not valid Unicode (a lone surrogate escape)."
    if _LONG_NUMBER.search(body):
        try:
            json.loads(body)
        except ValueError as error:
            if "integer string conversion" in str(error):
                return "The request holds a number with too many digits."
    return None


class BodySizeLimitMiddleware:
    """413 for a body over `max_bytes`, declared or streamed (chunked bodies are counted);
    408 for a body not complete within `timeout` seconds (a client trickling bytes would
    hold the connection as long as it liked); 400 for a JSON body with text that is not
    valid Unicode.

    The body is read here, up to the limit, and replayed to the app: GraphQL bodies are
    small, and the app never sees a request it would have to abandon half-read.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float = 10.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        too_large = f"Request body too large (at most {self.max_bytes} bytes)."
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await send_refusal(scope, send, 413, too_large, "PAYLOAD_TOO_LARGE")
            return
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    message = await receive()
                    if message["type"] != "http.request":
                        return  # the client went away
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_bytes:
                        await send_refusal(scope, send, 413, too_large, "PAYLOAD_TOO_LARGE")
                        return
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            await send_refusal(
                scope,
                send,
                408,
                f"The request body did not arrive within {self.timeout:g} seconds.",
                "REQUEST_TIMEOUT",
            )
            return
        body = b"".join(chunks)
        problem = _undecodable(body)
        if problem is not None:
            await send_refusal(scope, send, 400, problem, "BAD_USER_INPUT")
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
        await send_refusal(
            scope,
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
        # Names as the view reads them: percent-decoded ("%71uery" is "query"), "+" a space.
        names = {
            name
            for name, _ in parse_qsl(
                scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
            )
        }
        if scope["method"] == "GET" and not names & {"query", "extensions"}:
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


class RequestIdMiddleware:
    """Gives each request an id: in logs, in masked errors and in the X-Request-ID header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self.app(scope, receive, send_with_id)


class HTTPMetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"] if scope["path"] in KNOWN_PATHS else "other"

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.metrics.http_responses.labels(path, str(message["status"])).inc()
            await send(message)

        await self.app(scope, receive, counting_send)
