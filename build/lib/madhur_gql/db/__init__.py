"""Database access: the embedded server process and the Beanie/pymongo connection."""
