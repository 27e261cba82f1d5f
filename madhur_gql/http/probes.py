"""Probes and the metrics scrape: what an orchestrator and Prometheus ask of a process."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from madhur_gql.db.connection import Database
from madhur_gql.graphql.context import Services
from madhur_gql.metrics import Metrics


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


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    services: Services = request.app.state.services
    await services.served_lists.totals()  # database figures, refreshed at most every few s
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
