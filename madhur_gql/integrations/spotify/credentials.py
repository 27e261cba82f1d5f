"""spotipy's client-credentials manager, made safe to share between worker threads.

Its own module so that spotipy is imported only when Spotify is configured (it brings redis).
"""

from __future__ import annotations

import threading
from typing import Any

from spotipy import SpotifyClientCredentials


class LockedCredentials(SpotifyClientCredentials):
    """Client-credentials manager safe to share between worker threads: one token refresh."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refresh_lock = threading.Lock()

    def get_access_token(self, as_dict: bool = True, check_cache: bool = True) -> Any:
        with self._refresh_lock:
            return super().get_access_token(as_dict=as_dict, check_cache=check_cache)

    def forget_token(self) -> None:
        with self._refresh_lock:
            self.cache_handler.token_info = None
