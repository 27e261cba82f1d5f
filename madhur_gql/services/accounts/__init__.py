"""Accounts: registration, login, sessions, profiles and the login throttle."""
