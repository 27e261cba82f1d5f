"""HTTP at the edge: the /graphql view, GraphiQL, probes and the ASGI middlewares."""
