"""A listener's library: favourites, their playlists and their listening history."""
