"""The words a listener reads under a pick, from the engine's evidence (source, basis, songs).

Each reason names the evidence it stands on and nothing more: imported playlists that hold
both songs, listeners who played or liked both, the caller's own like or play of a song that
sounds alike, plain sound similarity to a named song, a mood region the song is inside (or,
when the catalog has too little inside it, the closest it has).
"""

from __future__ import annotations

from madhur_gql.documents import Song
from madhur_gql.recommender.mood import closest, describe
from madhur_gql.recommender.values import Basis, Pick, Source

FAVOURITE_GENRE = "From your favourite genre: {genre}"
GENERIC_REASON = "Picked for you"  # when no evidence can be named

_BY_BASIS = {
    Basis.PLAYLISTS: "Often in the same playlists as {song}",
    Basis.LISTENERS: "Listeners of {song} also listen to this",
    Basis.LIKED: "Sounds like {song}, which you liked",
    Basis.PLAYED: "Sounds like {song}, which you played",
    Basis.SOUND: "Sounds like {song}",
}


def reasons_for(pick: Pick, because: list[Song], song: Song) -> list[str]:
    """Reasons for one pick; ``because`` are the evidence songs still in the catalog."""
    reasons: list[str] = []
    names = [f"{s.title} by {s.artist}" for s in because]
    if pick.source is Source.SEED and names:
        reasons.append(f"Similar to {names[0]}")
    elif pick.basis is not None and names:
        reasons.append(_BY_BASIS[pick.basis].format(song=names[0]))
    elif pick.source is Source.POPULAR:
        genre = song.genres[0] if song.genres else None
        reasons.append(f"Popular in {genre}" if genre else "Popular on Madhur right now")
    if len(names) > 1 and pick.source is not Source.POPULAR:
        reasons.append(f"Also close to {names[1]}")
    vibe = pick.vibe
    if vibe is not None:
        words = describe if vibe.inside else closest
        reasons.append(words(vibe.mood, vibe.valence, vibe.energy))
    if not reasons:
        reasons.append(GENERIC_REASON)
    return reasons
