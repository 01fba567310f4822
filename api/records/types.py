"""Enums of the CRM records; the records themselves are only written through the API."""

import strawberry

from domain import enums

EngagementKind = strawberry.enum(enums.EngagementKind, name="EngagementKind")
