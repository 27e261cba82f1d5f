"""The GraphQL-over-HTTP envelope: response media types, and refusals in GraphQL's error shape.

A request refused before GraphQL runs (a body that is not JSON, a batch, a wrong method or
content type, too large, CSRF) still answers `{"errors": [{"message", "extensions": {"code",
"requestId"}}]}`, as the spec's application/json and application/graphql-response+json rules
ask for a request error: no `data` entry, a 4xx status, the media type the client accepts.
The view and the middlewares both answer through here, so every refusal looks the same.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Scope, Send

JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"

CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}
ALLOWED_METHODS = "GET, POST"


def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header; None when neither JSON type is acceptable.

    application/graphql-response+json only when asked for by name (never through a
    wildcard, so legacy clients sending */* keep application/json), and preferred on a tie.
    """
    if not accept:
        return JSON
    exact: dict[str, float] = {}
    for item in accept.split(","):
        media_range, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media_range = media_range.lower()
        exact[media_range] = max(quality, exact.get(media_range, 0.0))
    response_q = exact.get(GRAPHQL_RESPONSE_JSON, 0.0)
    json_q = next(
        (exact[r] for r in (JSON, "application/*", "*/*") if r in exact),
        0.0,
    )
    if response_q > 0 and response_q >= json_q:
        return GRAPHQL_RESPONSE_JSON
    if json_q > 0:
        return JSON
    return None


def refusal(scope: Scope, status: int, message: str, code: str | None = None) -> Response:
    """A request error answered before (or instead of) GraphQL execution."""
    request_id = scope.get("state", {}).get("request_id")
    extensions: dict[str, str] = {"code": code or CODES.get(status, "BAD_REQUEST")}
    if request_id:
        extensions["requestId"] = request_id
    body = json.dumps({"errors": [{"message": message, "extensions": extensions}]})
    # A client that accepts neither JSON type (406) still gets JSON: there is nothing better.
    media_type = negotiate(Headers(scope=scope).get("accept")) or JSON
    headers = {"allow": ALLOWED_METHODS} if status == 405 else None
    return Response(body, status, headers, media_type=f"{media_type}; charset=utf-8")


async def send_refusal(
    scope: Scope, send: Send, status: int, message: str, code: str | None = None
) -> None:
    """`refusal` for an ASGI middleware that answers without calling the app."""

    async def no_body() -> dict[str, object]:
        return {"type": "http.disconnect"}

    await refusal(scope, status, message, code)(scope, no_body, send)
