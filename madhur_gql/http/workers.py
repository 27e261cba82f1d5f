"""Several workers on one port, each with its own listening socket (SO_REUSEPORT).

uvicorn's supervisor binds one socket and hands it to every worker; asyncio then accepts up
to 100 waiting connections each time a worker wakes. A burst of new connections (a client's
pool, a proxy's upstream pool, a busy minute) lands on whichever worker woke first, and with
keep-alive it stays there: under `bench/load.py` one of two workers ran at 70% of a core and
the other at 8%. Here each worker binds the port itself with SO_REUSEPORT, so the kernel
spreads connections over the workers by their address hash (the usual fix; nginx's
`reuse_port` does the same). A worker that dies is replaced, and the replacement binds its
own socket; one that cannot start stops the whole server, as uvicorn's supervisor does.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sys
import threading
from multiprocessing.process import BaseProcess

import structlog
import uvicorn
from uvicorn.config import STARTUP_FAILURE

log = structlog.get_logger(__name__)

CHECK_SECONDS = 0.5


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) that other workers may bind too; not yet listening
    (asyncio starts it listening once the worker's app is up, so no connection is routed to a
    worker still starting)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: accepted connections inherit it, and asyncio sets TCP_NODELAY only
    # on sockets that say they are TCP.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class OwnSocketServer(uvicorn.Server):
    """uvicorn's server on a socket of its own."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if not sockets:
            try:
                sockets = [reuse_port_socket(self.config.host, self.config.port)]
            except OSError as error:  # the port is another program's
                log.error(
                    "cannot listen", host=self.config.host, port=self.config.port, error=str(error)
                )
                sys.exit(STARTUP_FAILURE)
        await super().startup(sockets=sockets)


def _run_worker(config: uvicorn.Config) -> None:
    config.configure_logging()
    OwnSocketServer(config).run()


def serve_workers(config: uvicorn.Config) -> None:
    """Run `config.workers` workers until SIGINT or SIGTERM, then stop them gracefully."""
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stop.set())

    def start() -> BaseProcess:
        process = context.Process(target=_run_worker, args=(config,), name="madhur-worker")
        process.start()
        return process

    workers = [start() for _ in range(config.workers)]
    log.info(
        "serving",
        url=f"http://{config.host}:{config.port}",
        workers=[process.pid for process in workers],
    )
    while not stop.wait(CHECK_SECONDS):
        for index, process in enumerate(workers):
            if process.is_alive():
                continue
            if process.exitcode == STARTUP_FAILURE:
                log.error("a worker could not start; stopping", pid=process.pid)
                stop.set()
                break
            log.warning("worker died; starting another", pid=process.pid, code=process.exitcode)
            workers[index] = start()
    for process in workers:
        if process.is_alive():
            process.terminate()  # SIGTERM: uvicorn drains the worker's requests, then exits
    for process in workers:
        process.join()
