"""Names people type (artists, playlists): one rule for blanks, spacing and length."""

from __future__ import annotations

from madhur_gql.errors import BadUserInput


def clean_name(value: str, *, what: str, max_length: int, field: str = "name") -> str:
    """Runs of white space become one space; empty or too long is BAD_USER_INPUT."""
    name = " ".join(value.split())
    if not name:
        raise BadUserInput(f"{what} must not be empty.", field=field)
    if len(name) > max_length:
        raise BadUserInput(f"{what} is at most {max_length} characters.", field=field)
    return name
