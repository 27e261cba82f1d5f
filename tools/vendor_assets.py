"""Refresh the browser assets the app serves itself (`make assets`; needs npm).

So that `make run` needs neither npm nor a CDN, the few files the app's pages load are kept in
madhur_gql/http/static/<page>/<package>/, with each package's package.json and licence:

- graphiql: what Strawberry's GraphiQL page names on unpkg, at the versions it pins (the app
  checks each package.json version against the page's at start). Run this after upgrading
  Strawberry when the GraphiQL test says the assets are at another version.
- dashboard: uPlot, the charting library of the admin dashboard, at the version below.
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

STATIC = Path(__file__).resolve().parents[1] / "madhur_gql" / "http" / "static"
CDN_URL = re.compile(
    r"https://unpkg\.com/(?P<package>(?:@[\w.-]+/)?[\w.-]+)@(?P<version>[\w.-]+)/(?P<file>[\w./-]+)"
)
DASHBOARD = {("uplot", "1.6.32"): {"dist/uPlot.iife.min.js", "dist/uPlot.min.css"}}
ALWAYS = ("package.json", "LICENSE", "LICENSE.md", "LICENSE.txt")

Wanted = dict[tuple[str, str], set[str]]


def graphiql_files() -> Wanted:
    """(package, version) -> the files Strawberry's GraphiQL page loads from it."""
    wanted: Wanted = defaultdict(set)
    for match in CDN_URL.finditer(get_graphql_ide_html("graphiql")):
        wanted[(match["package"], match["version"])].add(match["file"])
    return wanted


def vendor(package: str, version: str, files: set[str], dest: Path, work: Path) -> None:
    tarball = subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--silent", "--pack-destination", str(work)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    target = dest / package
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
    print(f"{dest.name}: {package}@{version}: {', '.join(sorted(files))}")


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        for page, wanted in (("graphiql", graphiql_files()), ("dashboard", DASHBOARD)):
            dest = STATIC / page
            for package, _ in wanted:
                shutil.rmtree(dest / package, ignore_errors=True)
            for (package, version), files in sorted(wanted.items()):
                vendor(package, version, files, dest, Path(work))


if __name__ == "__main__":
    main()
