"""The GraphQL edge of the goals service."""
