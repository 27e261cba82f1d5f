"""Clients generated from schema.graphql + examples/operations work, in TypeScript and Python.

TypeScript: @graphql-codegen writes typed documents and `tsc` checks web/src/usage.ts against
them (its `@ts-expect-error` lines prove that wrong variables and unselected fields fail).
Python: ariadne-codegen writes a typed async client that runs the listener journey for real.
ariadne-codegen pins graphql-core < 3.3 and Strawberry needs 3.3, so it lives in its own
venv (.venv/tools/ariadne-codegen, made by `make install`); the client it writes needs only
httpx and pydantic.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.conftest import LiveServer
from tests.ecosystem.conftest import ROOT, WEB, run
from tools import bundle_operations

ARIADNE = ROOT / ".venv" / "tools" / "ariadne-codegen" / "bin" / "ariadne-codegen"
OPERATIONS = ROOT / "examples" / "operations"


async def test_typescript_types_generate_and_type_check(node: str) -> None:
    generated = WEB / "src" / "gql" / "graphql.ts"
    generated.unlink(missing_ok=True)
    codegen = await run(
        str(WEB / "node_modules" / ".bin" / "graphql-codegen"), "--config", "codegen.ts"
    )
    assert codegen.returncode == 0, codegen.stdout + codegen.stderr
    source = generated.read_text()
    for operation in sorted(p.stem for p in OPERATIONS.glob("*.graphql")):
        assert f"export const {operation}Document" in source, operation
    assert "export type Mood =" in source  # enums become string unions

    typecheck = await run(
        str(WEB / "node_modules" / ".bin" / "tsc"), "--noEmit", "-p", "tsconfig.json"
    )
    assert typecheck.returncode == 0, typecheck.stdout + typecheck.stderr


@pytest.fixture(scope="module")
def python_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    if not ARIADNE.exists():
        pytest.fail("ariadne-codegen missing: run `make install`")
    target = tmp_path_factory.mktemp("client")
    # ariadne-codegen reads one document and refuses a fragment defined twice.
    operations = target / "operations.graphql"
    operations.write_text(bundle_operations.bundle(OPERATIONS))
    config = target / "codegen.toml"
    config.write_text(
        "[tool.ariadne-codegen]\n"
        f'schema_path = "{ROOT / "schema.graphql"}"\n'
        f'queries_path = "{operations}"\n'
        'target_package_name = "madhur_client"\n'
        f'target_package_path = "{target}"\n'
        'client_name = "MadhurClient"\n'
        "async_client = true\n"
    )
    subprocess.run([str(ARIADNE), "--config", str(config), "client"], check=True, timeout=60)
    sys.path.insert(0, str(target))
    try:
        yield importlib.import_module("madhur_client")
    finally:
        sys.path.remove(str(target))
        for name in [n for n in sys.modules if n.split(".")[0] == "madhur_client"]:
            del sys.modules[name]


# The generated `Register` model has a field named `register`, like a pydantic method.
@pytest.mark.filterwarnings('ignore:Field name "register":UserWarning')
async def test_generated_python_client_runs_the_listener_journey(
    live_server: LiveServer, python_client: ModuleType
) -> None:
    gql = python_client
    url = f"{live_server.url}/graphql"
    anonymous = gql.MadhurClient(url=url)
    session = (
        await anonymous.register(
            input=gql.RegisterInput(
                email="codegen@example.com", password="correct horse battery", display_name="Kai"
            )
        )
    ).register
    assert session.user.display_name == "Kai"
    listener = gql.MadhurClient(
        url=url, headers={"Authorization": f"Bearer {session.access_token}"}
    )

    songs = await listener.songs(first=3, search="queen", order=gql.SongOrder.POPULARITY)
    liked = [edge.node for edge in songs.songs.edges]
    assert liked and all("queen" in (s.artist + s.title).lower() for s in liked)
    for song in liked:
        recorded = await listener.record_interaction(
            input=gql.RecordInteractionInput(song_id=song.id, kind=gql.InteractionKind.LIKE)
        )
        assert recorded.record_interaction.kind is gql.InteractionKind.LIKE

    picks = (
        await listener.recommendations(first=5, diversity=0.3, mood=gql.Mood.HAPPY)
    ).recommendations
    assert len(picks) == 5
    assert {pick.song.id for pick in picks}.isdisjoint(song.id for song in liked)
    assert all(isinstance(pick.source, gql.RecommendationSource) and pick.reasons for pick in picks)

    history = (await listener.my_history(first=10)).my_history
    assert [edge.node.song.id for edge in history.edges] == [s.id for s in reversed(liked)]

    with pytest.raises(gql.GraphQLClientGraphQLMultiError) as refused:
        await anonymous.me()
    assert refused.value.errors[0].extensions["code"] == "UNAUTHENTICATED"
