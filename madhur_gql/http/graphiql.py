"""GraphiQL that works offline and opens on a Madhur starter document.

Strawberry's GraphiQL page loads React and GraphiQL from unpkg, so it is blank on an
air-gapped machine. The files it names ship in the package (static/graphiql/<package>/, at the
versions the page pins; `make assets` refreshes them), so the page is served with those URLs
rewritten to /graphiql-assets/ (the page's integrity hashes still apply, so the bytes are
checked to be the CDN's). When any is missing or at another version, the CDN page is served
and a warning logged. The generic welcome comment is replaced by STARTER_DOCUMENT.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry.http.ides import get_graphql_ide_html

log = structlog.get_logger(__name__)

ASSET_PREFIX = "/graphiql-assets"
VENDORED_ASSETS = Path(__file__).resolve().parent / "static" / "graphiql"
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
        """The offline page if node_modules (default: the vendored files) has every asset at
        the CDN page's version."""
        node_modules = node_modules or VENDORED_ASSETS
        cdn_html = with_starter_document(get_graphql_ide_html("graphiql"))
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
                "GraphiQL assets missing or at another version: the page loads them from the "
                "CDN (`make assets` refreshes them)",
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


STARTER_DOCUMENT = """\
# Welcome to Madhur. Run an operation with the play button (or Ctrl-Enter).
#
# 1. Register (once) or Login: the answer holds an accessToken.
# 2. Open the Headers tab below and paste, with your token:
#      {"Authorization": "Bearer <accessToken>"}
#    GraphiQL sends it with every operation from then on.
# 3. Like a song or two, then run Recommendations: each pick says why.
#
# Browsing (Songs) needs no token. More operations, each runnable as it is,
# are in examples/operations/ of the repository.

mutation Register {
  register(input: {email: "asha@example.com", password: "a long passphrase", displayName: "Asha"}) {
    accessToken
    user { id displayName }
  }
}

mutation Login {
  login(email: "asha@example.com", password: "a long passphrase") {
    accessToken
    refreshToken
  }
}

query Songs {
  songs(first: 5, search: "beyonce") {
    totalCount
    edges { node { id title artist genres } }
  }
}

mutation Like {
  recordInteraction(input: {songId: "<an id from Songs>", kind: LIKE}) { id kind }
}

query Recommendations {
  recommendations(first: 10, mood: HAPPY) {
    score
    source
    reasons
    song { id title artist }
  }
}
"""

_EXAMPLE_QUERY = re.compile(r"const EXAMPLE_QUERY = `.*?`;", re.DOTALL)


def with_starter_document(html: str) -> str:
    """Strawberry's page with STARTER_DOCUMENT as the query it opens on."""
    literal = STARTER_DOCUMENT.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")
    replaced, count = _EXAMPLE_QUERY.subn(lambda _: f"const EXAMPLE_QUERY = `{literal}`;", html)
    if count != 1:
        log.warning("GraphiQL page layout changed: it opens on Strawberry's welcome text")
        return html
    return replaced
