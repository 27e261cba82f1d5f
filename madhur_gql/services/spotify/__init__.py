"""Spotify metadata (covers, links, previews, artist images): cached, enriched in the background."""
