"""Madhur: a GraphQL API for a music catalog with hybrid song recommendations."""

__version__ = "0.1.0"
