"""Business logic between the GraphQL layer and the documents / recommender."""
