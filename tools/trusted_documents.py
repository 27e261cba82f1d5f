"""Write the trusted-documents manifest (`make trusted-documents`) that production may enforce.

Every file in examples/operations is one document (its fragments inside it), and the web
client's typed documents are generated from those same files, so the manifest lists each
file's text once, in Apollo's persisted query manifest format: id = sha256 of the body.
Further .graphql files or folders may be added on the command line. tests/test_trusted_documents.py
fails when the committed manifest is out of date.

    .venv/bin/python -m tools.trusted_documents [--output trusted-documents.json] [PATH ...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from graphql import OperationDefinitionNode, parse

ROOT = Path(__file__).resolve().parents[1]
OPERATIONS = ROOT / "examples" / "operations"
MANIFEST = ROOT / "trusted-documents.json"


def documents(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        found.extend(sorted(path.glob("*.graphql")) if path.is_dir() else [path])
    return found


def manifest(paths: list[Path]) -> str:
    operations = []
    for path in documents(paths):
        body = path.read_text()
        [operation] = [d for d in parse(body).definitions if isinstance(d, OperationDefinitionNode)]
        operations.append(
            {
                "id": hashlib.sha256(body.encode()).hexdigest(),
                "name": operation.name.value if operation.name else path.stem,
                "type": operation.operation.value,
                "body": body,
            }
        )
    content = {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
    return json.dumps(content, indent=2) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[OPERATIONS])
    parser.add_argument("--output", type=Path, default=MANIFEST)
    args = parser.parse_args()
    args.output.write_text(manifest(args.paths))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
