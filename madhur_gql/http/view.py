"""The /graphql view: GraphQL-over-HTTP media types, automatic persisted queries, GraphiQL.

With application/graphql-response+json a request error is a 400 without a `data` key, as
the GraphQL-over-HTTP spec asks; application/json keeps the 200 legacy clients expect.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import structlog
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.schema.base import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from madhur_gql.errors import Unauthenticated
from madhur_gql.graphql import persisted_queries
from madhur_gql.graphql.context import Context, build_context
from madhur_gql.graphql.limits import over_token_limit, token_limit_error
from madhur_gql.graphql.observer import short_name as _short
from madhur_gql.graphql.trusted_documents import NotTrusted, TrustedDocuments
from madhur_gql.http.envelope import GRAPHQL_RESPONSE_JSON, JSON, negotiate, refusal
from madhur_gql.http.graphiql import GraphiQLPage

log = structlog.get_logger(__name__)


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
        trusted_documents: TrustedDocuments | None = None,
        allow_queries_via_get: bool = True,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql is not None else None,
            allow_queries_via_get=allow_queries_via_get,
            # Live lists: graphql-transport-ws only (the legacy graphql-ws protocol is not
            # offered); a socket that sends no connection_init within 10 s is closed.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
        )
        self.graphiql = graphiql
        self.persisted_query_cache = persisted_query_cache
        self.trusted_documents = trusted_documents

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's, but a refusal (bad JSON, a batch, a wrong method or content type)
        answers in GraphQL's error shape instead of plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive=receive))
        except HTTPException as error:
            response = refusal(scope, error.status_code, error.reason)
        await response(scope, receive, send)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return build_context(request, response, request.app.state.services)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws: the access token comes in connection_init's payload.

        Browsers cannot set headers on a WebSocket, so `{"Authorization": "Bearer ..."}` in
        the payload is the credential (no cookie is ever read, so a page on another origin
        gains nothing by opening a socket). A token that is not valid closes the socket at
        once (4403); without one the connection stays anonymous and every field that needs a
        listener answers UNAUTHENTICATED.
        """
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        authorization = params.get("Authorization", params.get("authorization"))
        if authorization is None:
            return UNSET
        try:
            context.authenticate(authorization)
            await context.require_user()
        except Unauthenticated as error:
            raise ConnectionRejectionError() from error
        return UNSET

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
        if self.trusted_documents is not None:  # only listed documents; nothing registers
            try:
                request_data = self.trusted_documents.resolve(request_data)
            except NotTrusted as error:
                return ExecutionResult(data=None, errors=[error.as_graphql_error()])
        elif cache is not None:
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
