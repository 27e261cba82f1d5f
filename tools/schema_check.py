"""`make lint`'s schema checks: no unannounced breaking change, and the schema's house style.

Evolution: schema.graphql is compared with the version at the base commit by graphql-core's
`find_breaking_changes` (the diff graphql-js and graphql-inspector use). The base is
`SCHEMA_BASE` when set, else the merge base with `main` on a branch, else (on main itself, as
in CI) the previous commit. A break fails the check unless its line, as printed, is in
schema-breaks-accepted.txt; dangerous changes (a new enum value, an argument default changed)
are printed, not failed. Without a base commit (a shallow clone, the first commit) it says so
and passes.

Lint: every type, field, input field and root-field argument has a description; types are
PascalCase, fields and arguments camelCase, enum values UPPER_SNAKE; a deprecation gives its
reason. Gaps that predate the lint are listed in schema-lint-baseline.txt; a new one fails,
and a fixed one must leave the list (so it only shrinks).

    .venv/bin/python -m tools.schema_check [--base REV] [--update-baseline]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from graphql import (
    DEFAULT_DEPRECATION_REASON,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
)

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = "schema.graphql"
ACCEPTED = "schema-breaks-accepted.txt"
BASELINE = "schema-lint-baseline.txt"
BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}
PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")
UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def git(root: Path, *args: str) -> str | None:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def base_revision(root: Path, explicit: str | None) -> tuple[str | None, str]:
    """The commit to compare with, and why that one."""
    if explicit:
        return git(root, "rev-parse", "--verify", f"{explicit}^{{commit}}"), f"{explicit} (given)"
    head = git(root, "rev-parse", "HEAD")
    main = git(root, "rev-parse", "--verify", "main^{commit}")
    if main is not None and head != main:
        return git(root, "merge-base", "HEAD", "main"), "the merge base with main"
    return git(root, "rev-parse", "--verify", "HEAD~1^{commit}"), "the previous commit on main"


def breaking_lines(old: GraphQLSchema, new: GraphQLSchema) -> list[str]:
    return [
        f"{change.type.name}: {change.description}" for change in find_breaking_changes(old, new)
    ]


def read_list(path: Path) -> set[str]:
    if not path.exists():
        return set()
    lines = (line.strip() for line in path.read_text().splitlines())
    return {line for line in lines if line and not line.startswith("#")}


def check_evolution(root: Path, schema: GraphQLSchema, explicit_base: str | None) -> list[str]:
    base, why = base_revision(root, explicit_base)
    if base is None:
        print(f"schema evolution: no base commit ({why}; a shallow clone?): not checked")
        return []
    old_sdl = git(root, "show", f"{base}:{SCHEMA}")
    if old_sdl is None:
        print(f"schema evolution: {SCHEMA} is new since {base[:10]}: nothing to compare")
        return []
    old = build_schema(old_sdl)
    for change in find_dangerous_changes(old, schema):
        print(f"schema evolution: dangerous, check clients: {change.description}")
    accepted = read_list(root / ACCEPTED)
    breaks = [line for line in breaking_lines(old, schema) if line not in accepted]
    print(f"schema evolution: compared with {base[:10]}, {why}: {len(breaks)} unaccepted break(s)")
    return [
        f"breaking change (add this line to {ACCEPTED} to accept it): {line}" for line in breaks
    ]


def lint_findings(schema: GraphQLSchema) -> Iterator[str]:
    roots = {
        t.name for t in (schema.query_type, schema.mutation_type, schema.subscription_type) if t
    }
    for name, kind in sorted(schema.type_map.items()):
        if name.startswith("__") or name in BUILT_IN:
            continue
        if not PASCAL.match(name):
            yield f"name: type {name} is not PascalCase"
        if not kind.description:
            yield f"description: type {name}"
        if isinstance(kind, GraphQLEnumType):
            for value_name, value in kind.values.items():
                if not UPPER_SNAKE.match(value_name):
                    yield f"name: enum value {name}.{value_name} is not UPPER_SNAKE"
                if value.deprecation_reason == DEFAULT_DEPRECATION_REASON:
                    yield f"deprecation: {name}.{value_name} gives no reason"
        if not isinstance(kind, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            continue
        for field_name, field in kind.fields.items():
            where = f"{name}.{field_name}"
            if not CAMEL.match(field_name):
                yield f"name: field {where} is not camelCase"
            if not field.description:
                yield f"description: field {where}"
            if field.deprecation_reason == DEFAULT_DEPRECATION_REASON:
                yield f"deprecation: {where} gives no reason"
            for arg_name, arg in getattr(field, "args", {}).items():
                if not CAMEL.match(arg_name):
                    yield f"name: argument {where}({arg_name}) is not camelCase"
                if name in roots and not arg.description:
                    yield f"description: argument {where}({arg_name})"


def check_lint(root: Path, schema: GraphQLSchema, update_baseline: bool) -> list[str]:
    findings = set(lint_findings(schema))
    baseline_file = root / BASELINE
    if update_baseline:
        header = "# Schema lint gaps that predate the lint (tools/schema_check.py); only shrinks.\n"
        baseline_file.write_text(header + "".join(f"{line}\n" for line in sorted(findings)))
        print(f"schema lint: wrote {len(findings)} line(s) to {BASELINE}")
        return []
    baseline = read_list(baseline_file)
    problems = [f"schema lint: {line}" for line in sorted(findings - baseline)]
    problems += [
        f"schema lint: fixed, remove it from {BASELINE}: {line}"
        for line in sorted(baseline - findings)
    ]
    print(f"schema lint: {len(findings)} gap(s), {len(baseline)} in the baseline")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=os.environ.get("SCHEMA_BASE"), help="git revision")
    parser.add_argument("--update-baseline", action="store_true")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository")
    args = parser.parse_args(argv)
    schema = build_schema((args.root / SCHEMA).read_text())
    problems = check_evolution(args.root, schema, args.base)
    problems += check_lint(args.root, schema, args.update_baseline)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
