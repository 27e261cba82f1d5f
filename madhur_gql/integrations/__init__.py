"""Clients of outside services; they know nothing of MongoDB or GraphQL."""
