"""`serve` and `export-schema`: run the API, print its schema."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import structlog
import typer
import uvicorn
from uvicorn.config import STARTUP_FAILURE

from madhur_gql.cli.output import console
from madhur_gql.config import get_settings
from madhur_gql.http.server import server_options
from madhur_gql.http.workers import serve_workers

log = structlog.get_logger(__name__)

READ_MODEL_FILE = "read-model.pickle"


def serve(
    host: Annotated[str | None, typer.Option(help="Overrides MADHUR_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Overrides MADHUR_PORT.")] = None,
    workers: Annotated[int | None, typer.Option(help="Overrides MADHUR_WORKERS.")] = None,
) -> None:
    """Serve the API (GraphiQL at /graphql); starts the embedded database when no MONGODB_URI.

    The embedded database belongs to this command, not to a worker, so that several workers
    share one database and it stops only after all of them have drained.
    """
    from madhur_gql.db.embedded import EmbeddedMongo, running_server_uri

    settings = get_settings()
    with contextlib.ExitStack() as stack:
        if settings.mongodb_uri is None:
            storage = settings.data_dir.resolve()
            uri = running_server_uri(storage)
            if uri is None:
                embedded = EmbeddedMongo(storage, sync_on_commit=settings.db_sync_on_commit)
                embedded.launch()
                stack.callback(embedded.stop)
                if (workers or settings.workers) == 1:
                    # The app's modules load (seconds of CPU) while the database boots in its
                    # own process; uvicorn then finds them imported.
                    import madhur_gql.app  # noqa: F401
                uri = embedded.wait_until_ready()
            os.environ["MONGODB_URI"] = uri
            # Beside the database's files: a later start loads it (see services/catalog/saved.py).
            os.environ.setdefault("MADHUR_READ_MODEL_FILE", str(storage / READ_MODEL_FILE))
        if settings.jwt_secret_generated:
            # One key for every worker of this run; still gone after a restart.
            os.environ["MADHUR_JWT_SECRET"] = settings.jwt_secret
            log.warning(
                "MADHUR_JWT_SECRET is not set: using a random key for this run "
                "(tokens stop working on restart; set it in production)"
            )
        # Workers read their settings again, with the database and the key chosen here: a
        # worker in this process would otherwise reuse the cached ones and say both again.
        get_settings.cache_clear()
        # uvicorn re-raises SIGTERM/SIGINT after a graceful shutdown: turn that into an exit
        # that unwinds this stack, so the embedded database is stopped too.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _exit_cleanly)
        config = uvicorn.Config(
            "madhur_gql.app:create_app",
            factory=True,
            host=host or settings.host,
            port=port if port is not None else settings.port,
            workers=workers or settings.workers,
            log_level=settings.log_level.lower(),
            timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
            access_log=False,
            **server_options(settings, in_process=False),
        )
        if config.workers > 1:
            serve_workers(config)  # each worker on its own socket (http/workers.py)
        else:
            server = uvicorn.Server(config)
            server.run()
            if not server.started:  # the app or the port failed it (uvicorn.run's exit code)
                raise SystemExit(STARTUP_FAILURE)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def export_schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Default: stdout.")] = None,
) -> None:
    """Print (or write) the schema in GraphQL SDL."""
    from madhur_gql.graphql.schema import export_sdl

    sdl = export_sdl()
    if output is None:
        sys.stdout.write(sdl)
    else:
        output.write_text(sdl)
        console.print(f"wrote {output}")
