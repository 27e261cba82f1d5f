"""`make lint`'s schema checks, run in a scratch git repository as CI and a branch see them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tools import schema_check

V1 = '''"""The root."""
type Query {
  """A song."""
  song(
    """Its id."""
    id: ID!
  ): Song
}

"""A song."""
type Song {
  """Its id."""
  id: ID!
  """Its title."""
  title: String!
}
'''
WITHOUT_TITLE = V1.replace('  """Its title."""\n  title: String!\n', "")
BREAK = "FIELD_REMOVED: Field Song.title was removed."


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def commit(repo: Path, schema: str, message: str) -> None:
    (repo / "schema.graphql").write_text(schema)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, V1, "v1")
    return repo


def check(repo: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = schema_check.main(["--root", str(repo)])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_a_branch_that_removes_a_field_fails_until_the_break_is_accepted(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, WITHOUT_TITLE, "drop title")
    code, output = check(repo, capsys)
    assert code == 1
    assert BREAK in output and "merge base with main" in output

    (repo / "schema-breaks-accepted.txt").write_text(f"# clients moved to name\n{BREAK}\n")
    assert check(repo, capsys)[0] == 0


def test_on_main_the_last_commit_is_compared_with_the_one_before(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    artist = '  """Its artist."""\n  artist: String\n}\n'
    commit(repo, V1.removesuffix("}\n") + artist, "add artist")
    assert check(repo, capsys)[0] == 0  # an added field breaks nobody
    commit(repo, WITHOUT_TITLE.removesuffix("}\n") + artist, "drop title")
    code, output = check(repo, capsys)
    assert code == 1 and "previous commit on main: 1 unaccepted" in output and BREAK in output


def test_a_shallow_clone_passes_and_says_it_could_not_compare(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(repo, WITHOUT_TITLE, "drop title")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    code, output = check(clone, capsys)
    assert code == 0 and "not checked" in output


def test_the_lint_refuses_a_new_gap_and_a_stale_baseline_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    undocumented = V1.replace('"""A song."""\ntype Song', "type Song").replace(
        "title: String!", "title: String!\n  Release_date: String"
    )
    commit(repo, undocumented, "undocumented")
    code, output = check(repo, capsys)
    assert code == 1
    assert "description: type Song" in output
    assert "name: field Song.Release_date is not camelCase" in output

    schema_check.main(["--root", str(repo), "--update-baseline"])
    assert check(repo, capsys)[0] == 0
    commit(repo, V1, "documented again")  # the gaps are gone: the baseline must shrink too
    code, output = check(repo, capsys)
    assert code == 1 and "fixed, remove it from schema-lint-baseline.txt" in output
