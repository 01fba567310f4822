"""`GET /exports/goals.csv`: the goals a viewer may see, as a spreadsheet.

The query parameters are ``GoalFilter``'s fields (lists as repeated parameters), ``from`` and
``to`` for its date range, ``level`` and the order; they become a ``GoalFilter`` and go through
the same translation as ``goals(filter)``, so the export lists what that query lists, with the
same figures. The CSV is written page by page of goals, read by keyset, so memory stays flat
however many rows the export holds.
"""

import csv
import datetime
import io
import math
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import structlog
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from api.auth import unauthorized
from api.common.errors import PublicError
from api.common.numbers import plain_decimal
from api.common.text import text_problem
from api.directory.loaders import load_teams, load_users
from api.goals import loaders
from api.goals.filters import (
    MAX_IDS,
    MAX_SEARCH_LENGTH,
    GoalFilter,
    GoalOrder,
    OrderDirection,
    ProgressRangeInput,
    contributor_criteria,
    filter_range,
    goal_criteria,
    goal_order,
)
from api.goals.ranges import DateRangeInput
from api.ids import to_global_id
from api.insight.pace import Pace
from domain import enums
from domain import models as m
from domain.goals import queries as goal_queries
from domain.parameters import in_pieces
from domain.permissions import reach_of
from domain.ranges import NO_RANGE_MILESTONES, DateRange, GoalOverRange, RangeProgress
from domain.sql import quantize4
from domain.status import percent_of_target, status_within
from domain.tokens import authenticate

log = structlog.get_logger("api.exports")

E = TypeVar("E", bound=Enum)

LEVELS = ("goal", "contributor", "milestone")
GOAL_COLUMNS = ["goal_id", "goal_name", "type", "unit", "start_date", "end_date"]
CONTRIBUTOR_COLUMNS = ["contributor_id", "contributor_kind", "contributor_name"]
MILESTONE_COLUMNS = ["milestone_index", "milestone_start", "milestone_end", "final"]
FIGURE_COLUMNS = ["status", "value", "target", "percent", "pace_status", "refreshed_at"]
# Goals per page; a page's contributor goals (and their milestones) are what memory holds.
GOALS_PER_PAGE = 50
# Contributor goals whose milestones are read at once (at most 262 each).
CONTRIBUTORS_PER_READ = 20

LIST_PARAMETERS: dict[str, type[Enum] | None] = {
    "userIds": None,
    "teamIds": None,
    "pipelineIds": None,
    "milestonePeriods": enums.MilestonePeriod,
    "statuses": enums.GoalStatus,
    "categories": enums.GoalCategory,
    "types": enums.GoalType,
    "paceStatuses": enums.PaceStatus,
}
SINGLE_PARAMETERS = (
    "level",
    "from",
    "to",
    "progressMin",
    "progressMax",
    "search",
    "orderBy",
    "direction",
)


class BadParameter(Exception):
    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def bad_parameter(error: BadParameter) -> Response:
    body = {"error": error.message, "parameter": error.parameter}
    return JSONResponse(body, status_code=400)


@dataclass(frozen=True)
class ExportRequest:
    level: str
    goal_filter: GoalFilter
    order: GoalOrder | None


def _single(params: QueryParams, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise BadParameter(name, f"Give `{name}` once.")
    return values[0] if values else None


def _date(params: QueryParams, name: str) -> datetime.date | None:
    text = _single(params, name)
    if text is None or text == "":
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise BadParameter(name, f"`{name}` is a date: YYYY-MM-DD, not {text!r}.") from None


def _percent(params: QueryParams, name: str) -> float | None:
    text = _single(params, name)
    if text is None or text == "":
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise BadParameter(name, f"`{name}` is a number of percent, not {text!r}.") from None
    if not number.is_finite() or not math.isfinite(float(number)):
        raise BadParameter(name, f"`{name}` must be a finite number.")
    return float(number)


def _choice(name: str, text: str, cls: type[E]) -> E:
    try:
        return cls[text]
    except KeyError:
        allowed = ", ".join(member.name for member in cls)
        raise BadParameter(name, f"`{name}` takes {allowed}; not {text!r}.") from None


def _list(params: QueryParams, name: str) -> list[Any] | None:
    values = params.getlist(name)
    if len(values) > MAX_IDS:
        raise BadParameter(name, f"`{name}` takes at most {MAX_IDS} values.")
    cls = LIST_PARAMETERS[name]
    if cls is None:
        return values or None
    return [_choice(name, value, cls) for value in values] or None


def parse_export(params: QueryParams) -> ExportRequest:
    """The export asked for; BadParameter names the first parameter that is wrong."""
    for name in params:
        if name not in LIST_PARAMETERS and name not in SINGLE_PARAMETERS:
            raise BadParameter(name, f"`{name}` is not a parameter of this export.")
        problem = text_problem(params.getlist(name))
        if problem:
            raise BadParameter(name, problem)
    level = _single(params, "level") or "contributor"
    if level not in LEVELS:
        raise BadParameter("level", f"`level` is one of {', '.join(LEVELS)}; not {level!r}.")
    first, last = _date(params, "from"), _date(params, "to")
    if first is not None and last is not None and first > last:
        raise BadParameter("from", "`from` must not be after `to`.")
    low, high = _percent(params, "progressMin"), _percent(params, "progressMax")
    search = _single(params, "search")
    if search is not None and len(search.strip()) > MAX_SEARCH_LENGTH:
        raise BadParameter("search", f"`search` takes at most {MAX_SEARCH_LENGTH} characters.")
    goal_filter = GoalFilter(
        date_range=None if first is None and last is None else DateRangeInput(from_=first, to=last),
        user_ids=_list(params, "userIds"),
        team_ids=_list(params, "teamIds"),
        pipeline_ids=_list(params, "pipelineIds"),
        milestone_periods=_list(params, "milestonePeriods"),
        statuses=_list(params, "statuses"),
        progress=None if low is None and high is None else ProgressRangeInput(min=low, max=high),
        categories=_list(params, "categories"),
        types=_list(params, "types"),
        search=search,
        pace_statuses=_list(params, "paceStatuses"),
    )
    field = _single(params, "orderBy")
    direction = _single(params, "direction")
    order = None
    if field is not None or direction is not None:
        order = GoalOrder(
            field=_choice("orderBy", field or "CREATED_AT", goal_queries.GoalOrderField),
            direction=_choice("direction", direction or "ASC", OrderDirection),
        )
    return ExportRequest(level, goal_filter, order)


# ---------------------------------------------------------------- the rows


def _number(number: Decimal | None) -> str:
    return "" if number is None else str(plain_decimal(number))


def _instant(moment: datetime.datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


def _figures(
    status: enums.GoalStatus,
    value: Decimal | None,
    target: Decimal,
    percent: Decimal | None,
    pace: Pace | None,
    refreshed_at: datetime.datetime | None,
) -> list[str]:
    return [
        status.value,
        _number(value),
        _number(target),
        _number(percent),
        "" if pace is None else enums.PaceStatus(pace.status).value,
        _instant(refreshed_at),
    ]


def _progress_figures(
    goal: m.Goal,
    row: m.Goal | m.ContributorGoal,
    over_range: RangeProgress | None,
    today: datetime.date,
) -> list[str]:
    """Status and progress over the whole duration, or over the range as the API reads them."""
    whole = status_within(goal, row, row.percent, today)
    pace = Pace.of(row, goal, today)
    if over_range is None:
        return _figures(whole, row.value, row.target, row.percent, pace, row.refreshed_at)
    level = over_range.level
    status = over_range.status(today, without_range=whole)
    value = quantize4(level.value)
    return _figures(status, value, level.target, level.percent, pace, row.refreshed_at)


def _milestone_figures(
    goal: m.Goal, cg: m.ContributorGoal, milestone: m.Milestone, today: datetime.date
) -> list[str]:
    percent = percent_of_target(
        milestone.value, milestone.target, enums.higher_is_better(goal.type)
    )
    status = status_within(milestone, milestone, percent, today)
    return _figures(status, milestone.value, milestone.target, percent, None, cg.refreshed_at)


# A spreadsheet reads a cell that starts with one of these as a formula (OWASP's "CSV
# injection"): a name someone typed must stay text when the file is opened.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(text: str) -> str:
    """A name as a cell that no spreadsheet runs: a leading ' where it would start a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _goal_cells(goal: m.Goal) -> list[str]:
    return [
        to_global_id("Goal", goal.id),
        text_cell(goal.name),
        goal.type.value,
        enums.unit_of(goal.type).value,
        goal.start_date.isoformat(),
        goal.end_date.isoformat(),
    ]


@dataclass
class GoalsExport:
    """One export: the viewer, what they asked for, and today in their account's timezone."""

    viewer: m.User
    request: ExportRequest
    today: datetime.date

    @property
    def columns(self) -> list[str]:
        level = self.request.level
        return [
            *GOAL_COLUMNS,
            *(CONTRIBUTOR_COLUMNS if level != "goal" else []),
            *(MILESTONE_COLUMNS if level == "milestone" else []),
            *FIGURE_COLUMNS,
        ]

    def check(self) -> None:
        """Raise PublicError for a filter the translation refuses (before any row is sent)."""
        goal_criteria(self.request.goal_filter)
        contributor_criteria(self.request.goal_filter, self.today)
        filter_range(self.request.goal_filter)

    async def chunks(self) -> AsyncIterator[str]:
        """The CSV: the header, then one chunk per page of goals."""
        yield _csv([self.columns])
        account_id = self.viewer.account_id
        goal_filter = self.request.goal_filter
        field, descending = goal_order(self.request.order)
        date_range = filter_range(goal_filter)
        contributors = contributor_criteria(goal_filter, self.today)
        goals = goal_queries.filter_goals(
            goal_queries.visible_goals(account_id, self.viewer, await reach_of(self.viewer)),
            account_id,
            goal_criteria(goal_filter),
            contributors,
        )
        ordered = goal_queries.order_goals(goals, field, descending, date_range, self.today)
        page = ordered
        while True:
            rows = await goal_queries.fetch_ordered(page.limit(GOALS_PER_PAGE), field, date_range)
            async for piece in self._page_rows(rows, contributors, date_range):
                yield _csv(piece)
            if len(rows) < GOALS_PER_PAGE:
                return
            last = rows[-1]
            value = goal_queries.sort_value(last, field, date_range)
            page = ordered.filter(
                goal_queries.after_position(field, descending, value, last.id, date_range)
            )

    async def _page_rows(
        self,
        goals: Sequence[m.Goal],
        contributors: goal_queries.ContributorCriteria | None,
        date_range: DateRange | None,
    ) -> AsyncIterator[list[list[str]]]:
        """The rows of a page of goals, in pieces: the page's goals or contributor goals, or
        the milestones of a few contributor goals at a time."""
        account_id = self.viewer.account_id
        ranges: dict[int, GoalOverRange[m.Milestone]] = {}
        if date_range is not None:
            keys = [(goal.id, goal.type, date_range) for goal in goals]
            read = await loaders.load_goals_over_range(account_id, keys)
            ranges = {goal.id: over for goal, over in zip(goals, read, strict=True)}
        if self.request.level == "goal":
            yield [
                [
                    *_goal_cells(goal),
                    *_progress_figures(goal, goal, _progress(ranges, goal), self.today),
                ]
                for goal in goals
            ]
            return
        of_goals = await loaders.load_contributor_goals_of_goals(
            account_id, [(goal.id, contributors) for goal in goals]
        )
        names = await _contributor_names(account_id, [cg for cgs in of_goals for cg in cgs])
        if self.request.level == "contributor":
            yield [
                [
                    *_goal_cells(goal),
                    *names(cg),
                    *_progress_figures(goal, cg, _progress(ranges, goal, cg), self.today),
                ]
                for goal, cgs in zip(goals, of_goals, strict=True)
                for cg in cgs
            ]
            return
        for goal, cgs in zip(goals, of_goals, strict=True):
            over = ranges.get(goal.id)
            for piece in in_pieces(cgs, CONTRIBUTORS_PER_READ):
                if over is None:
                    ids = [cg.id for cg in piece]
                    milestones = await loaders.load_milestones_of_contributor_goals(account_id, ids)
                else:
                    milestones = [list(over.milestones.get(cg.id, [])) for cg in piece]
                yield [
                    [
                        *_goal_cells(goal),
                        *names(cg),
                        str(milestone.index),
                        milestone.start_date.isoformat(),
                        milestone.end_date.isoformat(),
                        "true" if milestone.final else "false",
                        *_milestone_figures(goal, cg, milestone, self.today),
                    ]
                    for cg, rows in zip(piece, milestones, strict=True)
                    for milestone in rows
                ]


def _progress(
    ranges: dict[int, GoalOverRange[m.Milestone]], goal: m.Goal, cg: m.ContributorGoal | None = None
) -> RangeProgress | None:
    """The goal's (or one of its contributor goals') progress over the range; None without one."""
    over = ranges.get(goal.id)
    if over is None:
        return None
    return over.progress if cg is None else over.contributors.get(cg.id, NO_RANGE_MILESTONES)


async def _contributor_names(
    account_id: int, contributor_goals: Sequence[m.ContributorGoal]
) -> Callable[[m.ContributorGoal], list[str]]:
    """The contributor cells of each contributor goal, users and teams read once."""
    user_ids = sorted({cg.user_id for cg in contributor_goals if cg.user_id is not None})
    team_ids = sorted({cg.team_id for cg in contributor_goals if cg.team_id is not None})
    users = {u.id: u for u in await load_users(account_id, user_ids) if u is not None}
    teams = {t.id: t for t in await load_teams(account_id, team_ids) if t is not None}

    def cells(cg: m.ContributorGoal) -> list[str]:
        if cg.user_id is not None:
            user = users.get(cg.user_id)
            return [to_global_id("User", cg.user_id), "USER", text_cell(user.name if user else "")]
        team = teams.get(cg.team_id or 0)
        name = text_cell(team.name if team else "")
        return [to_global_id("Team", cg.team_id or 0), "TEAM", name]

    return cells


def _csv(rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


async def export_goals(request: Request) -> Response:
    """The endpoint: a bearer token, the parameters, then the CSV streamed."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return unauthorized("Send an API token: `Authorization: Bearer <token>`.")
    viewer = await authenticate(token.strip())
    if viewer is None:
        return unauthorized("The API token is unknown, revoked or belongs to an inactive user.")
    try:
        export = GoalsExport(
            viewer,
            parse_export(request.query_params),
            datetime.datetime.now(ZoneInfo(viewer.account.timezone or "UTC")).date(),
        )
        export.check()
    except BadParameter as error:
        return bad_parameter(error)
    except PublicError as error:
        return JSONResponse({"error": str(error), "parameter": None}, status_code=400)
    return StreamingResponse(
        export.chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="goals.csv"'},
    )
