"""Progress of goals: the refresh that computes milestone values from the records, freezes them
after their end, rolls them up to contributor goals and goals, records the day's snapshot and
the outcomes that notifications announce; and the roll-up alone, after target edits."""

import time
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain import live
from domain.data_version import account_write
from domain.enums import AVERAGE_TYPES, GoalStatus, GoalType, higher_is_better
from domain.milestone_values import METRIC_OF, Metric, WindowSpan, compute_milestone_values
from domain.models import Account, Goal
from domain.notifications import dispatch, outbox
from domain.notifications.outbox import Outcome
from domain.pace_rollup import store_edited_pace, store_refreshed_pace
from domain.records_behind import keep_records
from domain.rollup import Level, MilestoneNumbers, contributor_level, goal_level
from domain.settings import get_settings
from domain.sql import (
    Params,
    StatementTimeout,
    bulk_update,
    bulk_upsert,
    connection,
    is_postgres,
    quantize4,
    statement_time_limit,
    to_date,
    to_decimal,
)
from domain.status import percent_of_target, status_of, status_within
from domain.windows import Buckets, is_frozen, local_date, milestone_window, refresh_due


@dataclass(slots=True)
class RefreshResult:
    account_id: int
    local_date: date
    milestones_computed: int = 0
    milestones_changed: int = 0
    milestones_finalized: int = 0
    contributor_goals: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    notification_ids: list[int] = field(default_factory=list)


class RefreshTimeout(Exception):
    """The database cancelled a refresh statement that ran past
    ``refresh_statement_timeout_seconds``; the refresh's transaction rolled back whole."""

    def __init__(self, account_id: int, seconds: float, limit_seconds: float) -> None:
        super().__init__(
            f"the refresh of account {account_id} was cancelled after {seconds:.1f} s: a "
            f"statement ran past the limit of {limit_seconds:g} s; nothing was written"
        )
        self.account_id = account_id
        self.seconds = seconds
        self.limit_seconds = limit_seconds

    def __reduce__(self) -> tuple[type, tuple[int, float, float]]:
        # arq keeps a failed job's exception, pickled, as its result.
        return type(self), (self.account_id, self.seconds, self.limit_seconds)


ZERO = Decimal(0)
# The first key of the advisory lock that lets one refresh of an account run at a time.
REFRESH_LOCK_CLASS = 4701


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name or "UTC")


def _now(now: datetime | None) -> datetime:
    # Rows are stamped with this instant; both backends keep it to the microsecond, in UTC.
    return (now or datetime.now(UTC)).astimezone(UTC)


async def refresh_account(
    account_id: int,
    *,
    now: datetime | None = None,
    goal_ids: Sequence[int] | None = None,
) -> RefreshResult:
    """Recompute the live milestones of an account (or of ``goal_ids`` only), in one
    transaction; announce what became final once it has committed.

    A full refresh also records the local date as the account's last refresh, which is what the
    daily schedule checks; re-running it the same day recomputes and overwrites that day's
    snapshot, so it is safe to repeat.
    """
    now = _now(now)
    goal_ids = None if goal_ids is None else sorted(set(goal_ids))
    account = await Account.get(id=account_id)
    tz = _zone(account.timezone)
    today = local_date(now, tz)
    result = RefreshResult(account_id=account_id, local_date=today)
    if goal_ids is not None and not goal_ids:
        return result
    async with account_write(account_id), _guarded(account_id):
        conn = connection()
        if is_postgres(conn):
            # One refresh of an account at a time: a second waits and then sees the first's
            # frozen milestones as final. An advisory lock rather than the account row's, so
            # that writes to the account (which move its data version) do not wait for it.
            await conn.execute_query(
                "SELECT pg_advisory_xact_lock($1, $2)", [REFRESH_LOCK_CLASS, account_id]
            )
        # Record changes committed after this are left for the next refresh (domain/live.py).
        seen = 0 if goal_ids is not None else await live.changes_seen(account_id)
        spans, buckets, metrics = await _live_windows(account_id, goal_ids, tz, now)
        values = await compute_milestone_values(
            account_id, goal_ids=goal_ids, spans=spans, buckets=buckets, metrics=metrics, now=now
        )
        result.milestones_computed = values.computed
        result.milestones_changed = values.changed
        result.milestones_finalized = len(values.finalized_ids)
        await keep_records(account_id, values.finalized_ids, tz)
        goals = await _load_milestone_numbers(account_id, goal_ids, live_only=True)
        levels = roll_up(goals)
        finalized = await _finalized_milestones(set(values.finalized_ids))
        day = refreshed(goals, levels, today, finalized)
        await _write_levels(goals, levels, refreshed_at=now)
        await _write_snapshots(today, day.snapshots)
        result.contributor_goals = len(day.snapshots)
        result.outcomes = day.outcomes
        await store_refreshed_pace(account_id, goal_ids, today)
        if day.outcomes:
            result.notification_ids = list(await outbox.record_outcomes(account_id, day.outcomes))
        if goal_ids is None and (
            account.last_refresh_date is None or account.last_refresh_date < today
        ):
            await Account.filter(id=account_id).update(last_refresh_date=today)
        await live.mark_refreshed(account_id, seen)
    if result.notification_ids:
        await dispatch.after_commit(result.notification_ids)
    return result


@asynccontextmanager
async def _guarded(account_id: int) -> AsyncIterator[None]:
    """Inside the refresh's transaction: planner settings that keep its time from following the
    statistics, and a limit the database enforces. A statement cancelled at the limit fails the
    refresh with RefreshTimeout, and the transaction rolls back."""
    started = time.monotonic()
    limit = get_settings().refresh_statement_timeout_seconds
    try:
        async with statement_time_limit(limit):
            conn = connection()
            if is_postgres(conn):
                # Whether PostgreSQL compiles a plan (seconds, at a million records) follows
                # the cost estimates. The refresh joins large intermediate results on equal keys,
                # or looks rows up by index: a merge join, which the planner picks when its
                # estimates are off, sorts both sides to disk instead (15 % slower at a million
                # tickets).
                await conn.execute_script("SET LOCAL jit = off; SET LOCAL enable_mergejoin = off")
            yield
    except StatementTimeout as error:
        raise RefreshTimeout(account_id, time.monotonic() - started, limit) from error


async def refresh_goal(goal_id: int, *, now: datetime | None = None) -> None:
    """Recompute one goal now, through the same code as the daily refresh."""
    rows = await Goal.filter(id=goal_id).values("account_id")
    if not rows:
        return
    await refresh_account(rows[0]["account_id"], now=now, goal_ids=[goal_id])


async def due_accounts(now: datetime) -> list[tuple[int, date]]:
    """The accounts whose local refresh hour has come today and that have no refresh for their
    local date yet, each with that date."""
    default_hour = get_settings().refresh_hour
    due: list[tuple[int, date]] = []
    rows = (
        await Account.all()
        .order_by("id")
        .values_list("id", "timezone", "refresh_hour", "last_refresh_date")
    )
    for account_id, timezone, refresh_hour, last_refresh_date in rows:
        hour = default_hour if refresh_hour is None else refresh_hour
        day = refresh_due(now, _zone(timezone), hour, last_refresh_date)
        if day is not None:
            due.append((account_id, day))
    return due


async def recompute_rollups(goal_ids: Sequence[int]) -> None:
    """Rewrite the stored value, target and percent of these goals and their contributor goals
    from their milestones. Call inside the transaction that changed targets or contributors."""
    goal_ids = sorted(set(goal_ids))
    if not goal_ids:
        return
    goals = await _load_milestone_numbers(None, goal_ids, live_only=False)
    await _write_levels(goals, roll_up(goals), refreshed_at=None)
    await store_edited_pace(goal_ids)


# ---------------------------------------------------------------- the steps


async def _live_windows(
    account_id: int, goal_ids: Sequence[int] | None, tz: ZoneInfo, now: datetime
) -> tuple[list[WindowSpan], Buckets, set[Metric]]:
    """The distinct date ranges of the live milestones in scope, as bucket spans."""
    conn = connection()
    p = Params(is_postgres(conn))
    goal_filter = "" if goal_ids is None else f"AND cg.goal_id IN ({p.ids(goal_ids)})"
    _, rows = await conn.execute_query(
        "SELECT DISTINCT g.type, m.start_date, m.end_date FROM milestone m "
        "JOIN contributor_goal cg ON cg.id = m.contributor_goal_id "
        "JOIN goal g ON g.id = cg.goal_id "
        f"WHERE cg.account_id = {p(account_id, 'int')} AND NOT m.final {goal_filter}",
        p.values,
    )
    metrics = {METRIC_OF[GoalType(row[0])] for row in rows}
    dates = sorted({(to_date(row[1]), to_date(row[2])) for row in rows})
    windows = {d: milestone_window(d[0], d[1], tz) for d in dates}
    buckets = Buckets.of(windows.values())
    freeze_hours = get_settings().freeze_after_hours
    spans = [
        WindowSpan(
            start_date=start,
            end_date=end,
            first=buckets.span(windows[(start, end)])[0],
            last=buckets.span(windows[(start, end)])[1],
            final=is_frozen(end, tz, now, freeze_hours),
        )
        for start, end in dates
    ]
    return spans, buckets, metrics


@dataclass(frozen=True, slots=True)
class ContributorMilestones:
    """A contributor goal's milestone figures in order, as the roll-up reads them."""

    milestones: list[MilestoneNumbers]
    all_final: bool = False
    was_final: bool = False  # the contributor goal was final before this refresh


@dataclass(frozen=True, slots=True)
class GoalMilestones:
    type: GoalType
    start_date: date
    end_date: date
    contributor_goals: dict[int, ContributorMilestones]


@dataclass(frozen=True, slots=True)
class Levels:
    contributor_goals: dict[int, Level]
    goals: dict[int, Level]


@dataclass(slots=True)
class Refreshed:
    """What a refresh records besides the numbers: a snapshot of each contributor goal that was
    not yet final, and the outcomes of the milestones and contributor goals it made final."""

    snapshots: dict[int, Level] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FinalMilestone:
    id: int
    index: int
    start_date: date
    end_date: date
    numbers: MilestoneNumbers


def roll_up(goals: Mapping[int, GoalMilestones]) -> Levels:
    """Contributor goals from their milestones, goals from their contributor goals."""
    levels = Levels(contributor_goals={}, goals={})
    for goal_id, goal in goals.items():
        average = goal.type in AVERAGE_TYPES
        better = higher_is_better(goal.type)
        of_goal = [
            contributor_level(cg.milestones, average=average, higher_is_better=better)
            for cg in goal.contributor_goals.values()
        ]
        levels.contributor_goals.update(zip(goal.contributor_goals, of_goal, strict=True))
        levels.goals[goal_id] = goal_level(of_goal, average=average, higher_is_better=better)
    return levels


def refreshed(
    goals: Mapping[int, GoalMilestones],
    levels: Levels,
    today: date,
    finalized: Mapping[int, Sequence[FinalMilestone]],
) -> Refreshed:
    """The snapshots and outcomes of a refresh on ``today`` that froze the ``finalized``
    milestones (by contributor goal); contributor goals final before are left alone."""
    result = Refreshed()
    for goal in goals.values():
        better = higher_is_better(goal.type)
        for cg_id, cg in goal.contributor_goals.items():
            if cg.was_final:
                continue
            level = levels.contributor_goals[cg_id]
            result.snapshots[cg_id] = level
            result.outcomes.extend(
                _milestone_outcome(cg_id, m, better, today) for m in finalized.get(cg_id, [])
            )
            if cg.all_final:
                status = status_within(goal, level, level.percent, today)
                result.outcomes.append(Outcome(cg_id, None, status))
    return result


async def _load_milestone_numbers(
    account_id: int | None, goal_ids: Sequence[int] | None, *, live_only: bool
) -> dict[int, GoalMilestones]:
    """The milestone figures of the goals in scope, by goal and contributor goal, in order.

    ``live_only`` (a refresh) takes the goals with a contributor goal not yet final.
    """
    conn = connection()
    p = Params(is_postgres(conn))
    conditions = []
    if account_id is not None:
        conditions.append(f"account_id = {p(account_id, 'int')}")
    if goal_ids is not None:
        conditions.append(f"goal_id IN ({p.ids(goal_ids)})")
    if live_only:
        conditions.append("NOT final")
    scope = f"SELECT goal_id FROM contributor_goal WHERE {' AND '.join(conditions)}"
    _, goal_rows = await conn.execute_query(
        f"SELECT id, type, start_date, end_date FROM goal WHERE id IN ({scope})", p.values
    )
    if not goal_rows:
        return {}
    _, rows = await conn.execute_query(
        "SELECT cg.goal_id, cg.id, cg.final, m.target, m.value, m.value_sum, m.value_count, "
        "m.final FROM milestone m JOIN contributor_goal cg ON cg.id = m.contributor_goal_id "
        f"WHERE cg.goal_id IN ({scope}) "
        'ORDER BY cg.goal_id, cg.id, m."index"',
        p.values,
    )
    # A refresh reads every milestone of an account: keep this loop lean (asyncpg already
    # gives Decimals; SQLite gives text).
    dec = (lambda x: x) if p.postgres else to_decimal
    milestones: dict[int, dict[int, list[MilestoneNumbers]]] = defaultdict(dict)
    was_final: dict[int, bool] = {}
    all_final: dict[int, bool] = {}
    for goal_id, cg_id, cg_final, target, value, vsum, vcount, final in rows:
        of_cg = milestones[goal_id].get(cg_id)
        if of_cg is None:
            of_cg = milestones[goal_id][cg_id] = []
            was_final[cg_id] = bool(cg_final)
            all_final[cg_id] = True
        of_cg.append(MilestoneNumbers(dec(target) or ZERO, dec(value), dec(vsum), vcount))
        if not final:
            all_final[cg_id] = False
    dates = {row[0]: (GoalType(row[1]), to_date(row[2]), to_date(row[3])) for row in goal_rows}
    return {
        goal_id: GoalMilestones(
            *dates[goal_id],
            contributor_goals={
                cg_id: ContributorMilestones(numbers, all_final[cg_id], was_final[cg_id])
                for cg_id, numbers in by_cg.items()
            },
        )
        for goal_id, by_cg in milestones.items()
    }


async def _write_levels(
    goals: Mapping[int, GoalMilestones], levels: Levels, *, refreshed_at: datetime | None
) -> None:
    """Store the levels; a refresh (``refreshed_at``) also marks contributor goals final when
    all their milestones are, and stamps the time."""
    cg_columns = [
        ("value", "numeric"),
        ("value_sum", "numeric"),
        ("value_count", "bigint"),
        ("target", "numeric"),
        ("percent", "numeric"),
    ]
    goal_columns = [("value", "numeric"), ("target", "numeric"), ("percent", "numeric")]
    if refreshed_at is not None:
        cg_columns += [("final", "bool"), ("refreshed_at", "timestamptz")]
        goal_columns += [("refreshed_at", "timestamptz")]
    cg_rows: list[list[object]] = []
    for goal in goals.values():
        for cg_id, cg in goal.contributor_goals.items():
            level = levels.contributor_goals[cg_id]
            numbers: list[object] = [
                cg_id,
                quantize4(level.value),
                quantize4(level.value_sum),
                level.value_count,
                quantize4(level.target),
                level.percent,
            ]
            cg_rows.append(
                numbers if refreshed_at is None else [*numbers, cg.all_final, refreshed_at]
            )
    goal_rows: list[list[object]] = []
    for goal_id, level in levels.goals.items():
        numbers = [goal_id, quantize4(level.value), quantize4(level.target), level.percent]
        if refreshed_at is not None:
            numbers.append(refreshed_at)
        goal_rows.append(numbers)
    await bulk_update("contributor_goal", ("id", "int"), cg_columns, cg_rows)
    await bulk_update("goal", ("id", "int"), goal_columns, goal_rows)


async def _write_snapshots(today: date, snapshots: Mapping[int, Level]) -> None:
    await bulk_upsert(
        "progress_snapshot",
        ("contributor_goal_id", "date"),
        [
            ("contributor_goal_id", "int"),
            ("date", "date"),
            ("value", "numeric"),
            ("percent", "numeric"),
        ],
        [
            [cg_id, today, quantize4(level.value), level.percent]
            for cg_id, level in snapshots.items()
        ],
    )


async def _finalized_milestones(ids: set[int]) -> dict[int, list[FinalMilestone]]:
    """The milestones this refresh froze, by contributor goal, in order."""
    if not ids:
        return {}
    conn = connection()
    p = Params(is_postgres(conn))
    _, rows = await conn.execute_query(
        'SELECT contributor_goal_id, id, "index", start_date, end_date, target, value, '
        f"value_sum, value_count FROM milestone WHERE id IN ({p.ids(sorted(ids))}) "
        'ORDER BY contributor_goal_id, "index"',
        p.values,
    )
    found: dict[int, list[FinalMilestone]] = defaultdict(list)
    for cg_id, m_id, index, start, end, target, value, vsum, vcount in rows:
        numbers = MilestoneNumbers(
            to_decimal(target) or Decimal(0), to_decimal(value), to_decimal(vsum), vcount
        )
        found[cg_id].append(FinalMilestone(m_id, index, to_date(start), to_date(end), numbers))
    return found


def _milestone_outcome(cg_id: int, milestone: FinalMilestone, better: bool, today: date) -> Outcome:
    numbers = milestone.numbers
    value = numbers.value
    if numbers.value_count is not None:
        # Percent from the unrounded average.
        total = numbers.value_sum or Decimal(0)
        value = total / numbers.value_count if numbers.value_count else None
    percent = percent_of_target(value, numbers.target, better)
    status: GoalStatus = status_of(
        start_date=milestone.start_date,
        end_date=milestone.end_date,
        today=today,
        value=value,
        target=numbers.target,
        percent=percent,
    )
    return Outcome(cg_id, milestone.index, status)
