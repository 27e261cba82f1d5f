"""The /graphql view: GraphQL-over-HTTP media types, automatic persisted queries, GraphiQL.

With application/graphql-response+json a request error is a 400 without a `data` key, as
the GraphQL-over-HTTP spec asks; application/json keeps the 200 legacy clients expect.
"""

from __future__ import annotations

import asyncio
import json

import structlog
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.schema.base import BaseSchema
from strawberry.types import ExecutionResult, SubscriptionExecutionResult

from madhur_gql.graphql import persisted_queries
from madhur_gql.graphql.context import Context, build_context
from madhur_gql.graphql.limits import over_token_limit, token_limit_error
from madhur_gql.graphql.observer import short_name as _short
from madhur_gql.http.graphiql import GraphiQLPage

log = structlog.get_logger(__name__)

JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


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


def _is_request_error(response: GraphQLHTTPResponse) -> bool:
    """No execution started: parse, validation, variable or persisted query errors."""
    errors = response.get("errors")
    return (
        response.get("data") is None
        and bool(errors)
        and all(isinstance(e, dict) and "path" not in e for e in errors or ())
    )


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view plus the offline GraphiQL page, response media types and APQ.

    With application/graphql-response+json a request error is a 400 without a `data` key,
    as the GraphQL-over-HTTP spec asks; application/json keeps the 200 legacy clients expect.
    """

    def __init__(
        self,
        schema: BaseSchema,
        *,
        graphiql: GraphiQLPage | None = None,
        persisted_query_cache: persisted_queries.PersistedQueryCache | None = None,
        allow_queries_via_get: bool = True,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql is not None else None,
            allow_queries_via_get=allow_queries_via_get,
        )
        self.graphiql = graphiql
        self.persisted_query_cache = persisted_query_cache

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return build_context(request, response, request.app.state.services)

    def decode_json(self, data: str | bytes) -> object:
        """Bytes that are not UTF-8 (strictly: no surrogates), numbers Python will not convert
        (over 4,300 digits) or nesting deeper than the parser's stack are a 400 too."""
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            return json.loads(text)
        except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
            raise HTTPException(400, "Unable to parse request body as JSON") from error

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self.graphiql.html if self.graphiql else self.graphql_ide_html)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET carrying only a persisted query hash has no `query` but is not a page view.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(
            request
        )

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = negotiate(request.headers.get("accept"))
        return sub_response

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        if sub_response.media_type is None:
            raise HTTPException(406, f"Accept {GRAPHQL_RESPONSE_JSON} or {JSON}.")
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        max_tokens = context.settings.max_query_tokens
        if request_data.query and over_token_limit(request_data.query, max_tokens):
            return ExecutionResult(data=None, errors=[token_limit_error(max_tokens)])
        cache = self.persisted_query_cache
        to_register = None
        if cache is not None:
            try:
                request_data, to_register = persisted_queries.resolve(request_data, cache)
            except persisted_queries.PersistedQueryError as error:
                return ExecutionResult(data=None, errors=[error.as_graphql_error()])
        # A query's deadline: armed by the cost extension once the operation is known to be
        # a query (mutations are not cut short halfway), so parsing and checks come first.
        context.deadline = asyncio.timeout(None)
        try:
            async with context.deadline:
                result = await super().execute_single(
                    request, request_adapter, sub_response, context, root_value, request_data
                )
        except TimeoutError:
            log.warning(
                "graphql operation timed out", operation=_short(request_data.operation_name)
            )
            return ExecutionResult(data=None, errors=[_timeout(context)])
        if cache is not None and to_register is not None and request_data.query is not None:
            persisted_queries.register(
                cache, to_register, request_data.query, result.data is not None
            )
        return result

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        media_type = sub_response.media_type or JSON
        if (
            media_type == GRAPHQL_RESPONSE_JSON
            and not isinstance(response_data, list)
            and _is_request_error(response_data)
        ):
            response_data = {k: v for k, v in response_data.items() if k != "data"}  # type: ignore[assignment]
            sub_response.status_code = sub_response.status_code or 400
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = f"{media_type}; charset=utf-8"
        return response


def _timeout(context: Context) -> GraphQLError:
    seconds = context.settings.operation_timeout
    return GraphQLError(
        f"The query did not finish within {seconds:g} seconds; ask for less.",
        extensions={"code": "REQUEST_TIMEOUT", "timeoutSeconds": seconds},
    )
