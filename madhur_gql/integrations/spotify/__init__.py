"""The Spotify Web API through spotipy, with our own pacing and retry policy."""
