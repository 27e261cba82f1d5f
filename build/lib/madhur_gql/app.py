"""The ASGI application: Starlette routes, the GraphQL endpoint and the service lifespan."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from madhur_gql.config import Settings, get_settings
from madhur_gql.db.connection import Database, open_database
from madhur_gql.graphql.context import Context, Services, build_context
from madhur_gql.graphql.graphiql import GraphiQLPage, GraphQLView
from madhur_gql.graphql.persisted_queries import PersistedQueryCache
from madhur_gql.graphql.schema import build_schema
from madhur_gql.graphql.security import (
    PREFLIGHT_HEADERS,
    BodySizeLimitMiddleware,
    CSRFPreventionMiddleware,
    SecurityHeadersMiddleware,
    security_extensions,
)
from madhur_gql.observability import HTTPMetricsMiddleware, Metrics, metrics_endpoint
from madhur_gql.services.accounts import AccountService
from madhur_gql.services.catalog import load_song_snapshot
from madhur_gql.services.catalog_import import catalog_is_empty, import_songs
from madhur_gql.services.catalog_index import Catalog
from madhur_gql.services.change_feed import ChangeFeed
from madhur_gql.services.interactions import Listening
from madhur_gql.services.recommendations import RecommendationService
from madhur_gql.services.trending import recent_plays
from madhur_gql.spotify.service import SpotifyService

log = structlog.get_logger(__name__)


class GraphQLApp(GraphQLView):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return build_context(request, response, request.app.state.services)


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


async def ensure_catalog(settings: Settings) -> None:
    if not settings.import_catalog_on_start or not await catalog_is_empty():
        return
    path = settings.default_catalog_file
    log.info("empty catalog: importing the demo catalog", file=str(path))
    started = time.perf_counter()
    done = 0

    def progress(rows: int) -> None:
        nonlocal done
        done += rows
        log.info("importing songs", rows=done)

    report = await import_songs(path, on_progress=progress)
    log.info(
        "demo catalog imported",
        songs=report.inserted,
        rows=report.rows,
        rejected=len(report.rejected),
        seconds=round(time.perf_counter() - started, 1),
    )


async def healthz(request: Request) -> JSONResponse:
    database: Database = request.app.state.database
    if await database.ping():
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "database unavailable"}, status_code=503)


async def readyz(request: Request) -> JSONResponse:
    database: Database = request.app.state.database
    services: Services = request.app.state.services
    if not await database.ping():
        return JSONResponse({"status": "database unavailable"}, status_code=503)
    if not services.recommendations.ready:
        return JSONResponse({"status": "recommender building"}, status_code=503)
    return JSONResponse({"status": "ready"})


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    metrics = Metrics()
    if settings.jwt_secret_generated:
        log.warning(
            "MADHUR_JWT_SECRET is not set: using a random key for this process "
            "(tokens stop working on restart; set it in production)"
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_database(settings, [metrics.command_listener()]) as database:
            await ensure_catalog(settings)
            snapshot = await load_song_snapshot()
            catalog = Catalog()
            catalog.load(snapshot)
            recommendations = RecommendationService(catalog)
            for play in await recent_plays():
                catalog.index.trending.add_play(str(play.song_id), play.created_at)
            feed = ChangeFeed(catalog, recommendations)
            feed.start()
            spotify = SpotifyService(settings)
            await spotify.start()
            app.state.database = database
            app.state.metrics = metrics
            metrics.watch_recommender(
                lambda: {**recommendations.stats(), "ready": recommendations.ready}
            )
            app.state.services = Services(
                settings=settings,
                accounts=AccountService(settings),
                catalog=catalog,
                recommendations=recommendations,
                listening=Listening(catalog, recommendations),
                metrics=metrics,
                spotify=spotify,
            )
            build = asyncio.create_task(
                recommendations.keep_fresh(snapshot, settings.recommender_rebuild_minutes),
                name="recommender",
            )
            del snapshot
            try:
                yield
            finally:
                build.cancel()
                await feed.stop()
                await spotify.stop()

    graphiql = (
        GraphiQLPage.discover(settings.graphiql_assets_dir) if settings.graphiql_enabled else None
    )
    graphql_app = GraphQLApp(
        build_schema(security_extensions(settings)),
        graphiql=graphiql,
        persisted_query_cache=PersistedQueryCache(settings.apq_cache_size),
        allow_queries_via_get=True,
    )
    middleware = [
        Middleware(RequestIdMiddleware),
        Middleware(HTTPMetricsMiddleware, metrics=metrics),
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", *PREFLIGHT_HEADERS],
            )
        )
    middleware.append(Middleware(SecurityHeadersMiddleware))
    middleware.append(Middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes))
    if settings.csrf_prevention:
        middleware.append(Middleware(CSRFPreventionMiddleware))
    return Starlette(
        routes=[
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            *(graphiql.routes() if graphiql else []),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
