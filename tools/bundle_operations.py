"""The example operations as one document, each fragment once (for ariadne-codegen).

Every file in examples/operations runs by itself, so a fragment that several operations use is
written out in each of them, identically (tests/test_examples.py checks that). Tools that read
a whole folder as one document refuse a fragment defined twice; this writes them one.

    .venv/bin/python -m tools.bundle_operations [FOLDER] > operations.graphql
"""

from __future__ import annotations

import sys
from pathlib import Path

from graphql import FragmentDefinitionNode, parse, print_ast

OPERATIONS = Path(__file__).resolve().parents[1] / "examples" / "operations"


def bundle(folder: Path = OPERATIONS) -> str:
    operations: list[str] = []
    fragments: dict[str, str] = {}
    for path in sorted(folder.glob("*.graphql")):
        for definition in parse(path.read_text()).definitions:
            text = print_ast(definition)
            if not isinstance(definition, FragmentDefinitionNode):
                operations.append(text)
            elif fragments.setdefault(definition.name.value, text) != text:
                raise ValueError(f"{path.name}: fragment {definition.name.value} differs")
    return "\n\n".join([*operations, *fragments.values()]) + "\n"


if __name__ == "__main__":
    sys.stdout.write(bundle(Path(sys.argv[1]) if len(sys.argv) > 1 else OPERATIONS))
