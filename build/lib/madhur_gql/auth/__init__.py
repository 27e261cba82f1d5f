"""Passwords (bcrypt) and tokens (JWT access tokens, opaque rotated refresh tokens)."""
