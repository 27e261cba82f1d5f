"""Relay cursors: opaque offsets that round-trip, and a clear error for anything else."""

from __future__ import annotations

import base64

import pytest

from madhur_gql.errors import BadUserInput
from madhur_gql.graphql.cursors import (
    MAX_PAGE_SIZE,
    check_page_size,
    decode_cursor,
    encode_cursor,
    window,
)


@pytest.mark.parametrize("offset", [0, 1, 19, 10_000])
def test_the_next_page_starts_just_after_a_cursor(offset: int) -> None:
    assert decode_cursor(encode_cursor(offset)) == offset + 1


def test_no_cursor_is_the_first_page() -> None:
    assert decode_cursor(None) == 0
    assert window(20, None) == (0, 20)
    assert window(5, encode_cursor(9)) == (10, 5)


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",
        base64.urlsafe_b64encode(b"o1:-1").decode(),
        base64.urlsafe_b64encode(b"o1:ten").decode(),
        base64.urlsafe_b64encode(b"x9:3").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_malformed_cursor_is_bad_input_on_after(cursor: str) -> None:
    with pytest.raises(BadUserInput) as error:
        decode_cursor(cursor)
    assert error.value.code == "BAD_USER_INPUT"
    assert error.value.extensions.get("field") == "after"


@pytest.mark.parametrize("first", [0, -1, MAX_PAGE_SIZE + 1])
def test_page_sizes_outside_1_to_max_are_refused(first: int) -> None:
    with pytest.raises(BadUserInput, match=f"between 1 and {MAX_PAGE_SIZE}"):
        check_page_size(first)
    assert check_page_size(MAX_PAGE_SIZE) == MAX_PAGE_SIZE


def test_the_size_is_checked_before_the_cursor() -> None:
    with pytest.raises(BadUserInput, match="'first'"):
        window(0, "not a cursor")
