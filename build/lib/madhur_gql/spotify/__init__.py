"""Spotify metadata (album covers, links, previews, artist images): cached, paced, optional."""
