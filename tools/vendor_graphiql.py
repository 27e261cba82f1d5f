"""Refresh the GraphiQL assets the app serves itself (`make graphiql-assets`; needs npm).

Strawberry's GraphiQL page names React, GraphiQL and the explorer plugin on unpkg at pinned
versions. So that `make run` needs neither npm nor a CDN, exactly those files are kept in
madhur_gql/http/static/graphiql/<package>/, with each package's package.json (the app checks
its version against the page's at start) and licence. Run this after upgrading Strawberry when
the GraphiQL test says the assets are at another version.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
import tempfile
from collections import defaultdict
from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

DEST = Path(__file__).resolve().parents[1] / "madhur_gql" / "http" / "static" / "graphiql"
CDN_URL = re.compile(
    r"https://unpkg\.com/(?P<package>(?:@[\w.-]+/)?[\w.-]+)@(?P<version>[\w.-]+)/(?P<file>[\w./-]+)"
)
ALWAYS = ("package.json", "LICENSE", "LICENSE.md", "LICENSE.txt")


def wanted_files() -> dict[tuple[str, str], set[str]]:
    """(package, version) -> the files the page loads from it."""
    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for match in CDN_URL.finditer(get_graphql_ide_html("graphiql")):
        wanted[(match["package"], match["version"])].add(match["file"])
    return wanted


def vendor(package: str, version: str, files: set[str], work: Path) -> None:
    tarball = subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--silent", "--pack-destination", str(work)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    target = DEST / package
    with tarfile.open(work / tarball) as archive:
        for member in archive.getmembers():
            name = member.name.removeprefix("package/")
            if member.isfile() and (name in files or name in ALWAYS):
                source = archive.extractfile(member)
                assert source is not None
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                (target / name).write_bytes(source.read())
    missing = [name for name in files if not (target / name).is_file()]
    if missing:
        raise SystemExit(f"{package}@{version} has no {missing}")


def main() -> None:
    shutil.rmtree(DEST, ignore_errors=True)
    with tempfile.TemporaryDirectory() as work:
        for (package, version), files in sorted(wanted_files().items()):
            vendor(package, version, files, Path(work))
            print(f"{package}@{version}: {', '.join(sorted(files))}")


if __name__ == "__main__":
    main()
