"""Language and country codes: ISO 639-1 (two letters, lower case) and ISO 3166-1 alpha-2.

pycountry carries the ISO tables, so a code is checked against the standard rather than a
pattern: "xx" has the right shape and is no language. Case is forgiven ("NE", "np") and the
canonical form stored; anything else (a three-letter code, a name) is BAD_USER_INPUT naming
the field, so a client can point at the box that is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import pycountry

from madhur_gql.errors import BadUserInput

MAX_PREFERRED_LANGUAGES = 5


@cache
def _languages() -> frozenset[str]:
    return frozenset(
        code for language in pycountry.languages if (code := getattr(language, "alpha_2", None))
    )


@cache
def _countries() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


def language_code(value: str) -> str | None:
    """The canonical ISO 639-1 code for `value`, or None when it is not one."""
    code = value.strip().lower()
    return code if code in _languages() else None


def country_code(value: str) -> str | None:
    """The canonical ISO 3166-1 alpha-2 code for `value`, or None when it is not one."""
    code = value.strip().upper()
    return code if code in _countries() else None


def language(value: str, *, field: str = "language") -> str:
    code = language_code(value)
    if code is None:
        raise BadUserInput(
            f"'{value}' is not an ISO 639-1 language code (two letters, such as 'ne').",
            field=field,
        )
    return code


def country(value: str, *, field: str = "country") -> str:
    code = country_code(value)
    if code is None:
        raise BadUserInput(
            f"'{value}' is not an ISO 3166-1 alpha-2 country code (two letters, such as 'NP').",
            field=field,
        )
    return code


def optional_language(value: str | None, *, field: str = "language") -> str | None:
    """None stays None; an empty string clears (None); anything else must be a code."""
    if value is None or not value.strip():
        return None
    return language(value, field=field)


def optional_country(value: str | None, *, field: str = "country") -> str | None:
    if value is None or not value.strip():
        return None
    return country(value, field=field)


def preferred_languages(values: Iterable[str], *, field: str = "preferredLanguages") -> list[str]:
    """Each a code, each once, in the listener's order; at most MAX_PREFERRED_LANGUAGES."""
    codes = list(dict.fromkeys(language(value, field=field) for value in values))
    if len(codes) > MAX_PREFERRED_LANGUAGES:
        raise BadUserInput(f"At most {MAX_PREFERRED_LANGUAGES} preferred languages.", field=field)
    return codes
