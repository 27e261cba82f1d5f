"""The composition root: settings, database, services and HTTP wired into one Starlette app."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial

import structlog
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute
from strawberry.extensions import SchemaExtension

from madhur_gql.config import Settings, get_settings
from madhur_gql.db.connection import open_database
from madhur_gql.db.group_commit import GroupCommit
from madhur_gql.documents import Song, User
from madhur_gql.graphql.cache_hints import CacheHints
from madhur_gql.graphql.context import Services
from madhur_gql.graphql.limits import security_extensions
from madhur_gql.graphql.persisted_queries import PersistedQueryCache
from madhur_gql.graphql.schema import build_schema
from madhur_gql.graphql.trusted_documents import TrustedDocuments
from madhur_gql.http.dashboard import Dashboard
from madhur_gql.http.graphiql import GraphiQLPage
from madhur_gql.http.middleware import (
    PREFLIGHT_HEADERS,
    BodySizeLimitMiddleware,
    CSRFPreventionMiddleware,
    HTTPMetricsMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
)
from madhur_gql.http.probes import healthz, metrics_endpoint, readyz
from madhur_gql.http.view import GraphQLView
from madhur_gql.metrics import Metrics
from madhur_gql.recommender.mixes import preload_clustering
from madhur_gql.services.accounts.service import AccountService
from madhur_gql.services.accounts.standing import ListenerStanding, StandingRules
from madhur_gql.services.catalog import saved as saved_model
from madhur_gql.services.catalog.admin import SongAdmin
from madhur_gql.services.catalog.browse import SongBrowser
from madhur_gql.services.catalog.demo import demo_catalog_wanted, start_demo_import
from madhur_gql.services.catalog.index import CatalogIndex
from madhur_gql.services.catalog.songs import load_song_snapshot
from madhur_gql.services.catalog.store import SongStore
from madhur_gql.services.catalog.trending import recent_plays
from madhur_gql.services.change_feed import ChangeFeed, songs_position_now
from madhur_gql.services.library.history import ListeningHistory
from madhur_gql.services.live import LiveState
from madhur_gql.services.recommendations import RecommendationService
from madhur_gql.services.recommendations.builder import EngineBuilder, SnapshotSource
from madhur_gql.services.recommendations.lists import GeneratedLists
from madhur_gql.services.recommendations.radio import RadioService
from madhur_gql.services.recommendations.served_lists import ServedLists
from madhur_gql.services.spotify.service import SpotifyService
from madhur_gql.tracing import Tracing

log = structlog.get_logger(__name__)
GC_YOUNG_THRESHOLD = 10_000  # allocations between young collections (CPython's default: 700)


def cache_hints(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    if settings.catalog_cache_seconds == 0:
        return []
    return [partial(CacheHints, max_age=settings.catalog_cache_seconds)]


async def holds_every_song(held: int) -> bool:
    """A cheap check that a caught-up saved model is this database's: as many songs."""
    stored = await Song.get_pymongo_collection().estimated_document_count()
    if stored != held:
        log.info("saved read model does not match the database", held=held, stored=stored)
    return stored == held


async def keep_recommender_fresh(
    recommendations: RecommendationService,
    settings: Settings,
    importing: asyncio.Task[None] | None,
) -> None:
    """Builds once the demo import (if any) is done, so the first engine knows every song;
    until then the popular fallback answers."""
    if importing is not None:
        await asyncio.wait([importing])
    await recommendations.keep_fresh(settings.recommender_rebuild_minutes)


def create_app(settings: Settings | None = None, tracing: Tracing | None = None) -> Starlette:
    """The app; `tracing` defaults to what the OTEL_* environment asks for (off)."""
    settings = settings or get_settings()
    tracing = tracing or Tracing.from_env()

    metrics = Metrics()
    dashboard = (
        Dashboard(metrics, settings.dashboard_sample_seconds)
        if settings.dashboard_enabled
        else None
    )
    if settings.jwt_secret_generated:
        log.warning(
            "MADHUR_JWT_SECRET is not set: using a random key for this process "
            "(tokens stop working on restart; set it in production)"
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_database(settings, [metrics.command_listener()]) as database:
            # A first start serves at once and imports the demo catalog beside it (below);
            # a later one loads the read model the last one saved, else reads every song.
            demo = await demo_catalog_wanted(settings)
            saved_file = settings.read_model_file
            saved = saved_model.load(saved_file) if saved_file and not demo else None
            if saved is not None:
                index, songs = saved.index, saved.store
            else:
                position = await songs_position_now()
                snapshot = await load_song_snapshot(full=True)  # a resumed import's songs
                index = CatalogIndex.from_documents(snapshot)
                songs = SongStore()
                songs.load(snapshot)
                del snapshot
            browser = SongBrowser(index, songs)
            rules = StandingRules(
                settings.established_account_days,
                settings.established_min_songs,
                settings.thin_account_weight,
            )
            standing = ListenerStanding(rules)
            builder = EngineBuilder(SnapshotSource(database.uri, settings.database_name, rules))
            recommendations = RecommendationService(browser, builder, standing=standing)
            accounts = AccountService(settings)
            live = LiveState(index, songs, recommendations, accounts, standing)
            accounts.deleted.append(live.account_deleted)
            for play in await recent_plays():
                live.replay_play(play)  # thin until the build has seen every listener
            commit = GroupCommit(database.db, window=settings.group_commit_ms / 1000)
            commit.start()
            feed = ChangeFeed(live)
            accounts.users_caught_up = lambda: feed.caught_up_at(User)
            if saved is None:
                feed.songs_position = position
            elif await feed.catch_up_songs(saved.resume_token) and await holds_every_song(
                len(songs)
            ):
                log.info("read model loaded", songs=len(songs), file=str(saved_file))
            else:  # the oplog does not reach back to it (or another database's): read afresh
                feed.songs_position = await songs_position_now()
                snapshot = await load_song_snapshot(full=True)
                index.replace_all(snapshot)
                songs.replace_all(snapshot)
                del snapshot
            del saved
            index.genre_counts()  # build the columns now, not in the first request
            feed.start()
            spotify = SpotifyService(settings)
            await spotify.start()
            served_lists = ServedLists()
            served_lists.start()
            metrics.watch_served_lists(
                lambda: [
                    (row.kind.value, row.source, row.as_counts())
                    for row in served_lists.cached_totals()
                ]
            )
            metrics.watch_online_metric_drops(served_lists.drops)
            app.state.database = database
            app.state.metrics = metrics
            metrics.watch_recommender(
                lambda: {**recommendations.stats(), "ready": recommendations.ready}
            )
            app.state.services = Services(
                settings=settings,
                accounts=accounts,
                browser=browser,
                recommendations=recommendations,
                history=ListeningHistory(live, commit, served_lists),
                song_admin=SongAdmin(live),
                songs=songs,
                radio=RadioService(recommendations),
                lists=GeneratedLists(recommendations),
                metrics=metrics,
                served_lists=served_lists,
                spotify=spotify,
            )
            # Into memory as each chunk is stored, by the one door (the change stream's echo
            # of these inserts is then skipped); the first build waits for the whole catalog.
            importing = start_demo_import(settings, live.songs_changed) if demo else None
            app.state.importing = importing
            build = asyncio.create_task(
                keep_recommender_fresh(recommendations, settings, importing), name="recommender"
            )
            # The read model is a million long-lived objects; a full collection walked them
            # all (0.7 s, the loop stalled). Frozen, collections walk what requests allocate.
            gc.collect()
            gc.freeze()
            # A request leaves no cycles behind (graphql/execution.py), but sixteen requests in
            # flight hold thousands of young objects: at the default 700 allocations a
            # collection ran every few requests and walked them all (7-9 % of a read's CPU).
            gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
            preload = asyncio.create_task(asyncio.to_thread(preload_clustering), name="preload")
            if dashboard is not None:
                dashboard.start()
            try:
                yield
            finally:
                if dashboard is not None:
                    await dashboard.stop()
                build.cancel()
                preload.cancel()
                if importing is not None:
                    importing.cancel()
                    await asyncio.gather(importing, return_exceptions=True)
                await feed.stop()
                if saved_file is not None and feed.songs_position is not None:
                    # What memory holds and the stream position it reflects, for the next start.
                    await asyncio.to_thread(
                        saved_model.save, saved_file, feed.songs_position, index, songs
                    )
                await commit.stop()
                await served_lists.stop()
                await spotify.stop()
                if tracing is not None:
                    tracing.shutdown()

    graphiql = (
        GraphiQLPage.discover(settings.graphiql_assets_dir) if settings.graphiql_enabled else None
    )
    schema = build_schema(
        [
            *(tracing.schema_extensions() if tracing else []),
            *security_extensions(settings),
            *cache_hints(settings),
        ]
    )
    persisted = PersistedQueryCache(settings.apq_cache_size)
    graphql_app = GraphQLView(
        schema,
        graphiql=graphiql,
        persisted_query_cache=persisted,
        trusted_documents=(
            TrustedDocuments.load(settings.trusted_documents)
            if settings.trusted_documents
            else None
        ),
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
    middleware.append(
        Middleware(
            BodySizeLimitMiddleware,
            max_bytes=settings.max_body_bytes,
            timeout=settings.body_timeout,
        )
    )
    if settings.csrf_prevention:
        middleware.append(Middleware(CSRFPreventionMiddleware))
    app = Starlette(
        routes=[
            # Every method reaches the view, which refuses all but GET and POST itself.
            Route("/graphql", graphql_app),
            WebSocketRoute("/graphql", graphql_app),  # subscriptions (graphql-transport-ws)
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            *(graphiql.routes() if graphiql else []),
            *(dashboard.routes() if dashboard else []),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    if tracing is not None:
        tracing.instrument(app)
    # Both caches are keyed by what clients send: bounded, and holding runnable documents only.
    app.state.document_cache = schema.document_cache
    app.state.persisted_queries = persisted
    return app
