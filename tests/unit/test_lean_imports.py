"""The API process loads only what answering needs: a start does not pay for scikit-learn
(mixes), pandas (imports) or spotipy and redis (Spotify, off unless configured)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sklearn", "pandas", "spotipy", "redis")


def test_importing_the_app_leaves_the_heavy_optional_modules_unloaded() -> None:
    probe = (
        "import json, sys; import madhur_gql.app; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
