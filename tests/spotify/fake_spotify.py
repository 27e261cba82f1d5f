"""A local stand-in for the Spotify Web API: real paths, real JSON shapes, programmable failures.

It serves the client-credentials token endpoint (`POST /api/token`), `GET /v1/tracks/{id}`,
`GET /v1/artists/{id}` and `GET /v1/search`, with Spotify's error bodies
(`{"error": {"status": 404, "message": ...}}`) and 429 + `Retry-After`. It records every request
so tests can count what reached "Spotify".
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret"
SEARCH_MAX_LIMIT = 10  # development-mode apps, 2026
COVER_PREFIX = {640: "ab67616d0000b273", 300: "ab67616d00001e02", 64: "ab67616d00004851"}
ARTIST_PREFIX = {640: "ab6761610000e5eb", 320: "ab67616100005174", 160: "ab6761610000f178"}


@dataclass
class FakeTrack:
    id: str
    name: str
    artists: list[tuple[str, str]]  # (artist id, name)
    preview_url: str | None = None
    album_id: str = "2oCs0DGTsRO98Gh5ZSl2Cx"


@dataclass
class Failure:
    status: int
    retry_after: int | None = None


@dataclass
class FakeState:
    tracks: dict[str, FakeTrack] = field(default_factory=dict)
    artists: dict[str, str] = field(default_factory=dict)  # id -> name
    failures: dict[str, deque[Failure]] = field(default_factory=dict)  # path prefix -> queue
    outage: int | None = None  # every request answers this status
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path?query)
    tokens: set[str] = field(default_factory=set)


def image(prefix: str, key: str, size: int) -> dict[str, Any]:
    return {"url": f"https://i.scdn.co/image/{prefix}{key}", "height": size, "width": size}


def artist_stub(artist_id: str, name: str) -> dict[str, Any]:
    return {
        "external_urls": {"spotify": f"https://open.spotify.com/artist/{artist_id}"},
        "href": f"https://api.spotify.com/v1/artists/{artist_id}",
        "id": artist_id,
        "name": name,
        "type": "artist",
        "uri": f"spotify:artist:{artist_id}",
    }


def track_object(track: FakeTrack) -> dict[str, Any]:
    """A track as `GET /v1/tracks/{id}` returns it (2026: no popularity, no available_markets)."""
    artists = [artist_stub(aid, name) for aid, name in track.artists]
    return {
        "album": {
            "album_type": "single",
            "artists": artists,
            "external_urls": {"spotify": f"https://open.spotify.com/album/{track.album_id}"},
            "href": f"https://api.spotify.com/v1/albums/{track.album_id}",
            "id": track.album_id,
            "images": [image(COVER_PREFIX[s], track.id, s) for s in (640, 300, 64)],
            "name": f"{track.name} (single)",
            "release_date": "2019-06-14",
            "release_date_precision": "day",
            "total_tracks": 1,
            "type": "album",
            "uri": f"spotify:album:{track.album_id}",
        },
        "artists": artists,
        "disc_number": 1,
        "duration_ms": 194754,
        "explicit": False,
        "external_ids": {"isrc": "GBAHS1900672"},
        "external_urls": {"spotify": f"https://open.spotify.com/track/{track.id}"},
        "href": f"https://api.spotify.com/v1/tracks/{track.id}",
        "id": track.id,
        "is_local": False,
        "name": track.name,
        "preview_url": track.preview_url,
        "track_number": 1,
        "type": "track",
        "uri": f"spotify:track:{track.id}",
    }


class FakeSpotify:
    """Runs in a daemon thread on 127.0.0.1; `stop()` makes "Spotify" unreachable."""

    def __init__(self) -> None:
        self.state = FakeState()
        self.stopped = False
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/"

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/token"

    def settings_overrides(self, **extra: Any) -> dict[str, Any]:
        return {
            "SPOTIFY_CLIENT_ID": CLIENT_ID,
            "SPOTIFY_CLIENT_SECRET": CLIENT_SECRET,
            "SPOTIFY_API_URL": self.api_url,
            "SPOTIFY_TOKEN_URL": self.token_url,
            "SPOTIFY_REQUESTS_PER_SECOND": 100,
            "SPOTIFY_BACKOFF_SECONDS": 0.02,
            "SPOTIFY_TIMEOUT_SECONDS": 2,
            **extra,
        }

    def start(self) -> FakeSpotify:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped = True  # kept-alive connections are dropped too, not just new ones
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- programming it ------------------------------------------------------------------
    def add_track(
        self,
        track_id: str,
        name: str = "Song",
        artists: list[tuple[str, str]] | None = None,
        preview_url: str | None = None,
    ) -> FakeTrack:
        artists = artists or [("3TVXtAsR1Inumwj472S9r4", "Drake")]
        track = FakeTrack(track_id, name, artists, preview_url)
        with self.lock:
            self.state.tracks[track_id] = track
            for artist_id, artist_name in artists:
                self.state.artists[artist_id] = artist_name
        return track

    def fail(self, path_prefix: str, *statuses: int, retry_after: int | None = None) -> None:
        """The next requests whose path starts with `path_prefix` answer these statuses."""
        with self.lock:
            queue = self.state.failures.setdefault(path_prefix, deque())
            queue.extend(Failure(status, retry_after) for status in statuses)

    def set_outage(self, status: int | None) -> None:
        with self.lock:
            self.state.outage = status

    def reset_counts(self) -> None:
        with self.lock:
            self.state.requests.clear()

    def count(self, path_prefix: str = "", method: str | None = None) -> int:
        with self.lock:
            return sum(
                1
                for m, path in self.state.requests
                if path.startswith(path_prefix) and (method is None or m == method)
            )

    @property
    def api_requests(self) -> int:
        return self.count("/v1/")

    # -- serving -------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                fake._serve(self, "POST")

            def do_GET(self) -> None:
                fake._serve(self, "GET")

        return Handler

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        if self.stopped:
            handler.close_connection = True  # hang up without an answer, like a dead host
            return
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        with self.lock:
            self.state.requests.append((method, handler.path))
            failure = self._take_failure(handler.path)
        if failure is not None:
            self._error(handler, failure.status, retry_after=failure.retry_after)
            return
        path = urlsplit(handler.path).path
        if method == "POST" and path == "/api/token":
            self._token(handler, body)
            return
        if not self._authorised(handler):
            self._error(handler, 401, "Invalid access token")
            return
        query = parse_qs(urlsplit(handler.path).query)
        if method == "GET" and (match := re.fullmatch(r"/v1/tracks/([^/]+)", path)):
            track = self.state.tracks.get(match[1])
            if track is None:
                self._error(handler, 404, "Resource not found")
            else:
                self._json(handler, 200, track_object(track))
        elif method == "GET" and (match := re.fullmatch(r"/v1/artists/([^/]+)", path)):
            self._artist(handler, match[1])
        elif method == "GET" and path == "/v1/search":
            self._search(handler, query)
        else:
            self._error(handler, 404, "Service not found")

    def _take_failure(self, path: str) -> Failure | None:
        if self.state.outage is not None:
            return Failure(self.state.outage)
        for prefix, queue in self.state.failures.items():
            if path.startswith(prefix) and queue:
                return queue.popleft()
        return None

    def _token(self, handler: BaseHTTPRequestHandler, body: str) -> None:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        form = parse_qs(body)
        if handler.headers.get("Authorization") != f"Basic {expected}":
            self._json(
                handler, 400, {"error": "invalid_client", "error_description": "Invalid client"}
            )
            return
        if form.get("grant_type") != ["client_credentials"]:
            self._json(handler, 400, {"error": "unsupported_grant_type"})
            return
        with self.lock:
            token = f"BQD{len(self.state.tokens):04d}fake"
            self.state.tokens.add(token)
        self._json(
            handler, 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}
        )

    def _authorised(self, handler: BaseHTTPRequestHandler) -> bool:
        scheme, _, token = (handler.headers.get("Authorization") or "").partition(" ")
        with self.lock:
            return scheme == "Bearer" and token in self.state.tokens

    def _artist(self, handler: BaseHTTPRequestHandler, artist_id: str) -> None:
        name = self.state.artists.get(artist_id)
        if name is None:
            self._error(handler, 404, "Resource not found")
            return
        artist = artist_stub(artist_id, name) | {
            "genres": [],
            "images": [image(ARTIST_PREFIX[s], artist_id, s) for s in (640, 320, 160)],
        }
        self._json(handler, 200, artist)

    def _search(self, handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
        q = (query.get("q") or [""])[0]
        limit = int((query.get("limit") or ["10"])[0])
        if (query.get("type") or [""])[0] != "track" or not 1 <= limit <= SEARCH_MAX_LIMIT:
            self._error(handler, 400, "Invalid limit")
            return
        match = re.fullmatch(r"track:(.*) artist:(.*)", q)
        title, artist = (match[1], match[2]) if match else (q, "")
        with self.lock:
            found = [
                track
                for track in self.state.tracks.values()
                if title.lower() in track.name.lower()
                and any(artist.lower() in name.lower() for _, name in track.artists)
            ]
        items = [track_object(track) for track in found[:limit]]
        self._json(
            handler,
            200,
            {
                "tracks": {
                    "href": f"https://api.spotify.com/v1/search?offset=0&limit={limit}",
                    "items": items,
                    "limit": limit,
                    "next": None,
                    "offset": 0,
                    "previous": None,
                    "total": len(found),
                }
            },
        )

    def _error(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        message: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        if status == 429 and retry_after is None:
            headers["Retry-After"] = "1"
        default = {429: "API rate limit exceeded", 404: "Resource not found"}
        text = message or default.get(status, "Server error")
        self._json(handler, status, {"error": {"status": status, "message": text}}, headers)

    @staticmethod
    def _json(
        handler: BaseHTTPRequestHandler,
        status: int,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)
