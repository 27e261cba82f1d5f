"""What a Spotify lookup can come to, and the cover sizes: shared by the client and the cache."""

from __future__ import annotations

from enum import StrEnum


class CoverSize(StrEnum):
    SMALL = "small"  # about 64 px
    MEDIUM = "medium"  # about 300 px
    LARGE = "large"  # about 640 px


class FetchStatus(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"  # 404, or a search without any matching track
    AMBIGUOUS = "ambiguous"  # a search found several equally good tracks: nothing recorded
    ERROR = "error"  # retries exhausted (5xx, 429, network); asked again after a backoff
