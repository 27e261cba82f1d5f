"""The GraphQL surface: types, resolvers, request context and error policy."""
