"""Names people type (artists, playlists, display names): blanks, spacing, length, and the
characters no name may hold."""

from __future__ import annotations

import unicodedata

from madhur_gql.errors import BadUserInput

# Bidirectional embeddings, overrides and isolates: "\u202etxt.exe" shows as "exe.txt", and a
# name can make the text around it read backwards.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Controls (NUL, BEL, ESC, ...), surrogates, private use, unassigned, line and paragraph
# separators. Tab, newline and carriage return are white space: they become one space.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn", "Zl", "Zp"})
WHITE_SPACE_CONTROLS = frozenset("\t\n\r")


def hidden_character(text: str) -> str | None:
    """The first character of `text` that a name must not hold, or None."""
    for char in text:
        if char in WHITE_SPACE_CONTROLS:
            continue
        if char in BIDI_CONTROLS or unicodedata.category(char) in HIDDEN_CATEGORIES:
            return char
    return None


def refuse_hidden(text: str, *, what: str, field: str) -> None:
    """BAD_USER_INPUT when `text` holds a control, bidi or separator character."""
    char = hidden_character(text)
    if char is not None:
        raise BadUserInput(
            f"{what} must not contain control or text-direction characters (U+{ord(char):04X}).",
            field=field,
        )


def clean_name(value: str, *, what: str, max_length: int, field: str = "name") -> str:
    """Runs of white space become one space; empty, too long or holding a hidden character
    (`refuse_hidden`) is BAD_USER_INPUT."""
    refuse_hidden(value, what=what, field=field)
    name = " ".join(value.split())
    if not name:
        raise BadUserInput(f"{what} must not be empty.", field=field)
    if len(name) > max_length:
        raise BadUserInput(f"{what} is at most {max_length} characters.", field=field)
    return name
