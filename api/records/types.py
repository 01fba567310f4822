"""Enums of the CRM records; the records themselves are only written through the API."""

from api.common.enums import described_enum
from domain import enums

EngagementKind = enums.EngagementKind
described_enum(
    EngagementKind,
    name="EngagementKind",
    description="The kind of an engagement record.",
    values={
        "CALL": "A call; counted by CALLS_LOGGED goals.",
        "MEETING": "A meeting; counted by MEETINGS_BOOKED goals.",
    },
)
