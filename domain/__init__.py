"""The rules of the goals service: models, periods, progress, permissions and services."""
