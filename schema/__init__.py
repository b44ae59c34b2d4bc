"""The GraphQL schema, generated from the model registry."""
