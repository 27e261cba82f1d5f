"""The /graphql view: GraphiQL that works offline, GraphQL-over-HTTP media types, APQ.

Strawberry's GraphiQL page loads React and GraphiQL from unpkg, so it is blank on an
air-gapped machine. `make install` puts the same packages, at the same versions, in
web/node_modules (from web/package-lock.json); when every file the page names is there,
the page is served with those URLs rewritten to /graphiql-assets/ (the page's integrity
hashes still apply, so the bytes are checked to be the CDN's). When any is missing the
CDN page is served as before.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.ides import get_graphql_ide_html
from strawberry.schema.base import BaseSchema
from strawberry.types import ExecutionResult, SubscriptionExecutionResult

from madhur_gql.graphql import persisted_queries
from madhur_gql.graphql.context import Context

log = structlog.get_logger(__name__)

ASSET_PREFIX = "/graphiql-assets"
DEFAULT_NODE_MODULES = Path(__file__).resolve().parents[2] / "web" / "node_modules"
_CDN_URL = re.compile(
    r"https://unpkg\.com/(?P<package>(?:@[\w.-]+/)?[\w.-]+)@(?P<version>[\w.-]+)/(?P<file>[\w./-]+)"
)

JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


@dataclass(frozen=True)
class GraphiQLPage:
    """The page to serve and, when offline, the only files /graphiql-assets/ will serve."""

    html: str
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def offline(self) -> bool:
        return bool(self.files)

    @classmethod
    def discover(cls, node_modules: Path | None = None) -> GraphiQLPage:
        """The offline page if node_modules has every asset at the CDN page's version."""
        node_modules = node_modules or DEFAULT_NODE_MODULES
        cdn_html = get_graphql_ide_html("graphiql")
        files: dict[str, Path] = {}
        missing: list[str] = []
        for match in _CDN_URL.finditer(cdn_html):
            package, version, name = match["package"], match["version"], match["file"]
            path = _asset_file(node_modules / package, version, name)
            if path is None:
                missing.append(f"{package}@{version}/{name}")
            else:
                files[f"{package}@{version}/{name}"] = path
        if missing or not files:
            log.warning(
                "GraphiQL assets not installed: the page loads them from the CDN "
                "(run `make install`)",
                node_modules=str(node_modules),
                missing=missing,
            )
            return cls(html=cdn_html)
        html = _CDN_URL.sub(
            lambda m: f"{ASSET_PREFIX}/{m[0].removeprefix('https://unpkg.com/')}", cdn_html
        )
        return cls(html=html, files=files)

    def routes(self) -> list[BaseRoute]:
        """/graphiql-assets/<package>@<version>/<file>, for the files the page names only."""

        async def asset(request: Request) -> Response:
            path = self.files.get(request.path_params["asset"])
            if path is None:
                return PlainTextResponse("Not Found", status_code=404)
            # The URL carries the version, so the file never changes under it.
            return FileResponse(
                path, headers={"cache-control": "public, max-age=31536000, immutable"}
            )

        return [Route(f"{ASSET_PREFIX}/{{asset:path}}", asset, methods=["GET", "HEAD"])]


def _asset_file(package_dir: Path, version: str, name: str) -> Path | None:
    try:
        installed = json.loads((package_dir / "package.json").read_text()).get("version")
    except (OSError, ValueError):
        return None
    path = (package_dir / name).resolve()
    if installed != version or not path.is_file() or not path.is_relative_to(package_dir.resolve()):
        return None
    return path


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

    def decode_json(self, data: str | bytes) -> object:
        """Bytes that are not UTF-8, or nesting deeper than the parser's stack, are a 400 too."""
        try:
            return json.loads(data)
        except (UnicodeDecodeError, RecursionError) as error:
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
        if self.persisted_query_cache is not None:
            try:
                request_data = persisted_queries.resolve(request_data, self.persisted_query_cache)
            except persisted_queries.PersistedQueryError as error:
                return ExecutionResult(data=None, errors=[error.as_graphql_error()])
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )

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
