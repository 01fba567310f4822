"""The records behind a milestone's value, as Relay pages (domain/records_behind.py)."""

import base64
import binascii
import datetime
import json
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

import strawberry

from api.common.enums import described_enum
from api.common.errors import PublicError
from api.common.numbers import plain_decimal
from api.common.pagination import page_size
from api.common.types import Connection, Edge, PageInfo
from api.context import Info
from api.directory import loaders as directory_loaders
from api.directory.types import Pipeline, User
from domain import enums
from domain import models as m
from domain.batches import MAX_EXTERNAL_ID
from domain.records_behind import (
    CountedRecord,
    Position,
    RecordedMilestone,
    RecordsPage,
    records_behind,
)

RecordKind = enums.RecordKind
described_enum(
    RecordKind,
    name="RecordKind",
    description="The kind of CRM record behind a number.",
    values={
        "TICKET": "A ticket (closed tickets, the two average times).",
        "DEAL": "A deal (revenue, deals created).",
        "CALL": "A call (calls logged).",
        "MEETING": "A meeting (meetings booked).",
    },
)

RECORDS_DESCRIPTION = (
    "The tickets, deals, calls or meetings this milestone's value counts, by the refresh's "
    "rules (its window in the account's timezone, the contributor's records — a team's: its "
    "members' —, the milestone's pipelines, the goal's type), newest `countedAt` first, ties "
    "by external id. A final milestone lists the records as they counted when it froze, so "
    "their contributions add up (or, for an average, average) to its value whatever happened "
    "to them since; a live one lists what counts now, which adds up to its value when no "
    "record changed since the last refresh. Pages of `first` (0 to 100, default 20) after the "
    "cursor `after`. Readable by whoever may view the goal."
)
FIRST_DESCRIPTION = "How many records, 0 to 100 (default 20)."
AFTER_DESCRIPTION = "The `endCursor` of the previous page of this milestone's records."

RecordsKey = tuple[RecordedMilestone, str, int, Position | None]


@strawberry.type(description="One record behind a milestone's value.")
class MilestoneRecord:
    record: strawberry.Private[CountedRecord]

    @strawberry.field(description="Ticket, deal, call or meeting.")
    def kind(self) -> RecordKind:
        return self.record.kind

    @strawberry.field(description="The record's id in the CRM, as it was synced.")
    def external_id(self) -> str:
        return self.record.external_id

    @strawberry.field(
        description="Who owned the record when it counted (a final milestone: when it froze)."
    )
    async def owner(self, info: Info) -> User:
        row = await info.context.loader(directory_loaders.load_users).load(self.record.owner_id)
        if row is None:  # users are never deleted
            raise PublicError("The owner of this record no longer exists.")
        return User(row=row)

    @strawberry.field(
        description="The record's pipeline when it counted; null for calls and meetings."
    )
    async def pipeline(self, info: Info) -> Pipeline | None:
        if self.record.pipeline_id is None:
            return None
        loader = info.context.loader(directory_loaders.load_pipelines)
        row = await loader.load(self.record.pipeline_id)
        return None if row is None else Pipeline(row=row)

    @strawberry.field(
        description="The instant that placed the record in the milestone: closedAt (closed "
        "tickets, resolution time), createdAt (response time, deals created), closedWonAt "
        "(revenue), occurredAt (calls, meetings)."
    )
    def counted_at(self) -> datetime.datetime:
        return self.record.counted_at

    @strawberry.field(
        description="What the record adds to the value: 1 for a count, the amount for revenue "
        "(the account's currency), the duration in seconds for an average time."
    )
    def contribution(self) -> Decimal:
        return plain_decimal(self.record.contribution) or Decimal(0)


def encode_cursor(milestone_id: int, position: Position) -> str:
    payload = [milestone_id, position.counted_at.isoformat(), position.external_id]
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str, milestone_id: int) -> Position:
    """The position a cursor of this milestone's records names."""
    try:
        if len(cursor) > 4 * MAX_EXTERNAL_ID + 200:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4))
        cursor_milestone, instant, external_id = json.loads(raw)
        if cursor_milestone != milestone_id or isinstance(cursor_milestone, bool):
            raise ValueError("another list")
        if not isinstance(instant, str) or not isinstance(external_id, str):
            raise ValueError("malformed")
        counted_at = datetime.datetime.fromisoformat(instant)
        if counted_at.tzinfo is None or len(external_id) > MAX_EXTERNAL_ID:
            raise ValueError("not a position")
        counted_at.astimezone(datetime.UTC)  # OverflowError outside the calendar
    except (ValueError, TypeError, OverflowError, RecursionError, binascii.Error):
        raise PublicError("`after` is not a cursor this list gave out.") from None
    return Position(counted_at, external_id)


async def load_records(account_id: int, keys: Sequence[RecordsKey]) -> list[RecordsPage]:
    """Keys are (milestone, the account's timezone, limit, position): two statements per
    distinct (limit, position), which is two for a page of milestones read alike."""
    grouped: dict[tuple[str, int, Position | None], list[RecordedMilestone]] = defaultdict(list)
    for milestone, tz, limit, after in keys:
        grouped[(tz, limit, after)].append(milestone)
    found: dict[RecordsKey, RecordsPage] = {}
    for (tz, limit, after), milestones in grouped.items():
        pages = await records_behind(
            account_id, milestones, ZoneInfo(tz or "UTC"), limit=limit, after=after
        )
        for milestone in milestones:
            found[(milestone, tz, limit, after)] = pages.get(milestone.id, RecordsPage(0, []))
    return [found[key] for key in keys]


async def milestone_records(
    info: Info, milestone: m.Milestone, goal: m.Goal, first: int | None, after: str | None
) -> Connection[MilestoneRecord]:
    limit = page_size(first)
    position = None if after is None else decode_cursor(after, milestone.id)
    recorded = RecordedMilestone(
        milestone.id, goal.type, milestone.start_date, milestone.end_date, milestone.final
    )
    key = (recorded, info.context.account.timezone, limit + 1, position)
    page = await info.context.loader(load_records).load(key)
    edges = [
        Edge(cursor=encode_cursor(milestone.id, r.position), node=MilestoneRecord(record=r))
        for r in page.records[:limit]
    ]
    return Connection(
        total_count=page.total,
        page_info=PageInfo(
            has_next_page=len(page.records) > limit,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        edges=edges,
    )
