"""The operators' dashboard: /metrics as plots, for administrators.

/admin/dashboard/ serves a static page (uPlot, from the package: works offline) that polls
/admin/dashboard/data with an admin's bearer token. The data is a short history of samples of
the app's own Prometheus registry, taken every MADHUR_DASHBOARD_SAMPLE_SECONDS (and one taken
at read time): operations and their total seconds by operation name, recommender index
figures. The page turns differences into rates. On by default in development, off in
production unless MADHUR_DASHBOARD=true; the data needs the ADMIN role either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from madhur_gql.errors import Forbidden, Unauthenticated
from madhur_gql.graphql.context import build_context
from madhur_gql.http.envelope import refusal
from madhur_gql.metrics import Metrics

STATIC = Path(__file__).resolve().parent / "static" / "dashboard"
PREFIX = "/admin/dashboard"
HISTORY = 360  # samples kept: an hour at the default 10 s


def sample(metrics: Metrics) -> dict[str, Any]:
    """Cumulative figures now: per operation count, errors and seconds; recommender index."""
    operations: dict[str, dict[str, float]] = {}
    recommender: dict[str, float] = {}
    for family in metrics.registry.collect():
        for s in family.samples:
            if s.name == "madhur_graphql_operations_total":
                op = operations.setdefault(s.labels["operation"], _empty())
                op["count"] += s.value
                if s.labels["outcome"] != "ok":
                    op["errors"] += s.value
            elif s.name == "madhur_graphql_operation_seconds_sum":
                operations.setdefault(s.labels["operation"], _empty())["seconds"] += s.value
            elif s.name == "madhur_recommender_index":
                recommender[s.labels["figure"]] = s.value
    return {"time": time.time(), "operations": operations, "recommender": recommender}


def _empty() -> dict[str, float]:
    return {"count": 0.0, "errors": 0.0, "seconds": 0.0}


class Dashboard:
    def __init__(self, metrics: Metrics, sample_seconds: float) -> None:
        self.metrics = metrics
        self.sample_seconds = sample_seconds
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._sample_forever(), name="dashboard-sampler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _sample_forever(self) -> None:
        while True:
            self.history.append(sample(self.metrics))
            await asyncio.sleep(self.sample_seconds)

    async def data(self, request: Request) -> Response:
        context = build_context(request, None, request.app.state.services)
        try:
            await context.require_admin()
        except Unauthenticated as error:
            return refusal(request.scope, 401, error.message, "UNAUTHENTICATED")
        except Forbidden as error:
            return refusal(request.scope, 403, error.message, "FORBIDDEN")
        samples = [*self.history, sample(self.metrics)]
        return JSONResponse({"sample_seconds": self.sample_seconds, "samples": samples})

    def routes(self) -> list[BaseRoute]:
        async def page(request: Request) -> Response:
            return Response((STATIC / "index.html").read_bytes(), media_type="text/html")

        async def slash(request: Request) -> Response:
            return RedirectResponse(f"{PREFIX}/")

        return [
            Route(PREFIX, slash),
            Route(f"{PREFIX}/", page),
            Route(f"{PREFIX}/data", self.data),
            Mount(f"{PREFIX}/assets", StaticFiles(directory=STATIC), name="dashboard-assets"),
        ]
