"""Radio cursors: a station's whole state, so any API process can serve the next page.

Layout (then zlib, then URL-safe base64 without padding): ``b"R1"``, an 8-byte digest of the
seed (a cursor only resumes its own station), songs served (uint32), the recent artists'
keys (count byte + uint32 each, for the artist spacing across pages), the played-songs Bloom
filter's bytes. About 1 KB once hundreds of songs have played.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
import zlib

from madhur_gql.errors import BadUserInput
from madhur_gql.services.recommendations.radio import StationState, load_played

_MAGIC = b"R1"
_HEAD = struct.Struct(">2s8sIB")
MAX_CURSOR = 8192  # characters
_MAX_STATE = 65536  # bytes after decompression


def _digest(seed_key: str) -> bytes:
    return hashlib.blake2b(seed_key.encode(), digest_size=8).digest()


def encode_station(state: StationState) -> str:
    recent = state.recent_artists
    head = _HEAD.pack(_MAGIC, _digest(state.seed_key), state.served, len(recent))
    body = head + struct.pack(f">{len(recent)}I", *recent) + state.played.save_bytes()
    return base64.urlsafe_b64encode(zlib.compress(body, 9)).decode().rstrip("=")


def decode_station(cursor: str, seed_key: str) -> StationState:
    """The state in ``cursor``; BAD_USER_INPUT (field ``after``) if it is not one of ours or
    belongs to another station."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        inflater = zlib.decompressobj()
        body = inflater.decompress(raw, _MAX_STATE)
        if inflater.unconsumed_tail:
            raise ValueError("too big")
        magic, digest, served, count = _HEAD.unpack_from(body)
        if magic != _MAGIC:
            raise ValueError("not a station cursor")
        start = _HEAD.size
        recent = struct.unpack_from(f">{count}I", body, start)
        played = load_played(body[start + 4 * count :])
    except (ValueError, binascii.Error, zlib.error, struct.error) as exc:
        raise BadUserInput("Malformed cursor.", field="after") from exc
    if digest != _digest(seed_key):
        raise BadUserInput("This cursor belongs to another station.", field="after")
    return StationState(seed_key, played, tuple(recent), served)
