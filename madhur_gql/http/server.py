"""How uvicorn serves the app: trusted proxies, header limits and read deadlines.

`madhur-gql serve` and the tests' live server both take their options from `server_options`,
so what is tested is what runs. uvicorn's own defaults trust `X-Forwarded-For` from
127.0.0.1 and give a client all the time it wants to finish its request headers (its
keep-alive timeout only runs between requests); a few hundred such connections hold a
worker's sockets. Here forwarded headers are believed only from MADHUR_FORWARDED_ALLOW_IPS,
and a connection whose request headers are not complete within MADHUR_HEADER_TIMEOUT_SECONDS
is closed. Slow bodies are the body-size middleware's job (it reads the body).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from madhur_gql.config import Settings, get_settings

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - uvicorn without its [standard] extras
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

MAX_HEADER_BYTES = 16 * 1024  # h11's default, stated: one request's headers, in all


class HeaderDeadline:
    """A deadline on each request's headers, from the connection or the end of the last
    response until the blank line. Mixed into uvicorn's HTTP protocols, which both start a
    request cycle once a request's headers are complete."""

    header_timeout: float = 10.0
    _header_deadline: asyncio.TimerHandle | None = None
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    cycle: Any

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm_header_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)  # type: ignore[misc]

    def _arm_header_deadline(self) -> None:
        self._cancel_header_deadline()
        if not self.transport.is_closing():
            self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_late)

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_late(self) -> None:
        self._header_deadline = None
        waiting_for_headers = self.cycle is None or self.cycle.response_complete
        if waiting_for_headers and not self.transport.is_closing():
            self.transport.close()


class DeadlineH11Protocol(HeaderDeadline, H11Protocol):  # type: ignore[misc]
    """h11 with the header deadline."""


# As uvicorn's "auto": httptools (its faster parser) when installed, else h11.
if HttpToolsProtocol is not None:

    class DeadlineHttpToolsProtocol(HeaderDeadline, HttpToolsProtocol):  # type: ignore[misc]
        """httptools with the header deadline."""

    BASE: type[HeaderDeadline] = DeadlineHttpToolsProtocol
else:  # pragma: no cover
    BASE = DeadlineH11Protocol


class SettingsProtocol(BASE):  # type: ignore[valid-type,misc]
    """The deadline from the environment's settings: importable by name, so that uvicorn's
    worker processes (`MADHUR_WORKERS` > 1) can build it themselves."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = get_settings().header_timeout


def server_options(settings: Settings, *, in_process: bool = True) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` / `uvicorn.Config` (besides app, host and port).

    `in_process=False` (the CLI, whose settings are the environment's) names the protocol
    by import path instead of passing a class built for these settings.
    """
    protocol: type[HeaderDeadline] | str = (
        type("MadhurProtocol", (BASE,), {"header_timeout": settings.header_timeout})
        if in_process
        else f"{__name__}:SettingsProtocol"
    )
    trusted = settings.forwarded_allow_ips.strip()
    return {
        "http": protocol,
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or None,
        "timeout_keep_alive": settings.keep_alive_timeout,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "limit_concurrency": settings.max_connections,
    }
