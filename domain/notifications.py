"""The notification outbox: rows written in the transaction of the change that causes them,
delivered after the commit.

Each row is one message for one recipient on one channel, unique by ``dedupe_key``: a repeated
refresh or a retried write adds nothing, while a second edit (a new change id) notifies again.
Delivery is somebody else's business (``workers/``); this module only records rows, hands their
ids to an installed dispatcher, and moves rows through their delivery states so that a delivery
that runs twice sends once.
"""

import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from tortoise.expressions import F, Q
from tortoise.queryset import QuerySet
from tortoise.timezone import now as utc_now

from domain.data_version import account_write
from domain.enums import (
    AVERAGE_TYPES,
    Channel,
    DeliveryState,
    GoalStatus,
    NotificationKind,
    unit_of,
)
from domain.errors import ErrorCode, Errors
from domain.models import Account, ContributorGoal, Goal, Milestone, Notification
from domain.sql import FOUR_PLACES, Params, connection, is_postgres, to_date, to_decimal

log = structlog.get_logger("goals.notifications")

Dispatcher = Callable[[Sequence[int]], Awaitable[None]]

# SQLite caps bound parameters per statement; IN lists are sent in slices of this size.
CHUNK = 500
# Outcomes recorded per pair of statements, which bounds the memory a year's freeze takes.
OUTCOMES_PER_STATEMENT = 20_000
MAX_MARK_READ = 1000
FINAL_ACHIEVED = frozenset({GoalStatus.ACHIEVED, GoalStatus.EXCEEDED})
FINAL_STATUSES = frozenset({GoalStatus.ACHIEVED, GoalStatus.EXCEEDED, GoalStatus.MISSED})


@dataclass(frozen=True, slots=True)
class Outcome:
    """A milestone (``milestone_index``) or a whole contributor goal (None) that became final."""

    contributor_goal_id: int
    milestone_index: int | None
    status: GoalStatus


@dataclass(frozen=True, slots=True)
class _Cause:
    """Something that happened to one contributor goal, before it is fanned out to people.

    Its rows' dedupe keys are ``key_prefix`` + recipient id + ``key_middle`` + channel."""

    kind: NotificationKind
    contributor_goal_id: int
    goal_id: int
    milestone_index: int | None
    payload: dict[str, Any]
    key_prefix: str
    key_middle: str


# ---------------------------------------------------------------- dispatching

_dispatcher: Dispatcher | None = None


def install_dispatcher(dispatcher: Dispatcher | None) -> Dispatcher | None:
    """Set what ``after_commit`` hands new rows to; returns the previous one to put it back.

    The API process installs an arq pool, the workers their own connection; with none installed
    rows stay PENDING until the sweep finds them."""
    global _dispatcher
    previous, _dispatcher = _dispatcher, dispatcher
    return previous


async def after_commit(notification_ids: Sequence[int]) -> None:
    """Hand new outbox rows to the delivery workers; call after the transaction commits.
    Never raises: rows left pending are picked up by the periodic sweep."""
    if not notification_ids or _dispatcher is None:
        return
    try:
        await _dispatcher(list(notification_ids))
    except Exception as error:  # noqa: BLE001 - the sweep delivers what could not be queued
        log.warning(
            "notifications not queued; the sweep will deliver them",
            count=len(notification_ids),
            error=f"{type(error).__name__}: {error}",
        )


# ---------------------------------------------------------------- recording


async def record_goal_assigned(
    goal: Goal, contributor_goals: Sequence[ContributorGoal], change_id: str
) -> list[int]:
    """Outbox rows for GOAL_ASSIGNED, when the goal turned it on. Returns the ids of new rows
    that still need delivery (pass them to ``after_commit``)."""
    return await _record_change(goal, contributor_goals, change_id, NotificationKind.GOAL_ASSIGNED)


async def record_targets_changed(
    goal: Goal, contributor_goal_ids: Sequence[int], change_id: str
) -> list[int]:
    """Outbox rows for TARGETS_CHANGED, when the goal turned it on. Returns the ids of new rows
    that still need delivery (pass them to ``after_commit``)."""
    if not _turned_on(goal, NotificationKind.TARGETS_CHANGED) or not contributor_goal_ids:
        return []
    contributor_goals = await ContributorGoal.filter(
        account_id=goal.account_id, goal_id=goal.id, id__in=sorted(set(contributor_goal_ids))
    ).order_by("id")
    return await _record_change(
        goal, contributor_goals, change_id, NotificationKind.TARGETS_CHANGED
    )


async def record_outcomes(account_id: int, outcomes: Sequence[Outcome]) -> list[int]:
    """Outbox rows for MILESTONE_ACHIEVED / MILESTONE_MISSED / GOAL_COMPLETED.

    Call inside the refresh's transaction, after the final values are written: the payload
    carries them. Returns the ids of new rows that still need delivery."""
    wanted: dict[tuple[NotificationKind, int, int | None], Outcome] = {}
    for outcome in outcomes:
        if outcome.status in FINAL_STATUSES:
            kind = _outcome_kind(outcome)
            wanted.setdefault((kind, outcome.contributor_goal_id, outcome.milestone_index), outcome)
    if not wanted:
        return []
    account = await Account.get(id=account_id)
    goals: dict[int, Goal] = {}
    ids: list[int] = []
    ordered = list(wanted.values())
    for start in range(0, len(ordered), OUTCOMES_PER_STATEMENT):
        chunk = ordered[start : start + OUTCOMES_PER_STATEMENT]
        causes = await _outcome_causes(account, chunk, goals)
        ids.extend(await _write(account, causes))
    return sorted(ids)


async def _outcome_causes(
    account: Account, outcomes: Sequence[Outcome], goals: dict[int, Goal]
) -> list[_Cause]:
    """The outcomes whose contributor goal (and milestone) exist in the account and whose goal
    turned their kind on, with the final numbers in their payload. ``goals`` caches goals."""
    conn = connection()
    p = Params(is_postgres(conn))
    source = _rows_source(
        p,
        "o",
        [("seq", "int"), ("contributor_goal_id", "int"), ("milestone_index", "int")],
        [(i, o.contributor_goal_id, o.milestone_index) for i, o in enumerate(outcomes)],
    )
    _, rows = await conn.execute_query(
        "SELECT o.seq, cg.goal_id, cg.value, cg.target, "
        'm."index", m.start_date, m.end_date, m.value, m.target '
        f"FROM {source} "
        "JOIN contributor_goal cg ON cg.id = o.contributor_goal_id "
        "LEFT JOIN milestone m ON m.contributor_goal_id = o.contributor_goal_id "
        'AND m."index" = o.milestone_index '
        f"WHERE cg.account_id = {p(account.id, 'int')} "
        "AND (o.milestone_index IS NULL OR m.id IS NOT NULL) "
        "ORDER BY o.seq",
        p.values,
    )
    missing = sorted({row[1] for row in rows} - goals.keys())
    for chunk in _chunks(missing):
        goals.update((goal.id, goal) for goal in await Goal.filter(id__in=chunk))
    causes: list[_Cause] = []
    for position, goal_id, cg_value, cg_target, index, start, end, value, target in rows:
        outcome = outcomes[position]
        kind = _outcome_kind(outcome)
        goal = goals[goal_id]
        if not _turned_on(goal, kind):
            continue
        payload = _base_payload(goal, account)
        if index is None:
            payload.update(value=_stored(cg_value), target=_stored(cg_target))
        else:
            payload.update(
                milestone={
                    "index": index,
                    "start_date": to_date(start).isoformat(),
                    "end_date": to_date(end).isoformat(),
                },
                value=_stored(value),
                target=_stored(target),
            )
        payload.update(status=str(outcome.status))
        prefix, middle = _outcome_key(kind, outcome.contributor_goal_id, outcome.milestone_index)
        causes.append(
            _Cause(
                kind=kind,
                contributor_goal_id=outcome.contributor_goal_id,
                goal_id=goal_id,
                milestone_index=outcome.milestone_index,
                payload=payload,
                key_prefix=prefix,
                key_middle=middle,
            )
        )
    return causes


def _stored(value: Any) -> str | None:
    """A numeric column as the ORM reads it (four places), written into a payload."""
    number = to_decimal(value)
    return None if number is None else _decimal(number.quantize(FOUR_PLACES))


def _outcome_kind(outcome: Outcome) -> NotificationKind:
    if outcome.milestone_index is None:
        return NotificationKind.GOAL_COMPLETED
    if outcome.status in FINAL_ACHIEVED:
        return NotificationKind.MILESTONE_ACHIEVED
    return NotificationKind.MILESTONE_MISSED


def _outcome_key(
    kind: NotificationKind, contributor_goal_id: int, milestone_index: int | None
) -> tuple[str, str]:
    """``outcome:<recipient>:<kind>:<contributor goal>:<milestone index or "goal">:<channel>``,
    as the parts around the recipient id."""
    milestone = "goal" if milestone_index is None else str(milestone_index)
    return "outcome:", f":{kind}:{contributor_goal_id}:{milestone}:"


def _change_key(
    change_id: str, kind: NotificationKind, contributor_goal_id: int
) -> tuple[str, str]:
    """``change:<change>:<kind>:<contributor goal>:<recipient>:<channel>``, as the parts around
    the recipient id."""
    return f"change:{change_id}:{kind}:{contributor_goal_id}:", ":"


async def _record_change(
    goal: Goal,
    contributor_goals: Sequence[ContributorGoal],
    change_id: str,
    kind: NotificationKind,
) -> list[int]:
    if not _turned_on(goal, kind) or not contributor_goals:
        return []
    account = await Account.get(id=goal.account_id)
    totals = await _target_totals(goal, [cg.id for cg in contributor_goals])
    causes = []
    for cg in contributor_goals:
        target, milestone_count = totals.get(cg.id, (Decimal(0), 0))
        payload = _base_payload(goal, account)
        payload.update(target=_decimal(target), milestone_count=milestone_count)
        prefix, middle = _change_key(change_id, kind, cg.id)
        causes.append(
            _Cause(
                kind=kind,
                contributor_goal_id=cg.id,
                goal_id=goal.id,
                milestone_index=None,
                payload=payload,
                key_prefix=prefix,
                key_middle=middle,
            )
        )
    return sorted(await _write(account, causes))


async def _target_totals(goal: Goal, cg_ids: Sequence[int]) -> dict[int, tuple[Decimal, int]]:
    """The whole contributor goal's target (a sum, or the mean for the averages) from its
    milestones, read here because the stored roll-up may not be rewritten yet."""
    sums: dict[int, Decimal] = defaultdict(Decimal)
    counts: dict[int, int] = defaultdict(int)
    for chunk in _chunks(sorted(set(cg_ids))):
        for cg_id, target in await Milestone.filter(contributor_goal_id__in=chunk).values_list(
            "contributor_goal_id", "target"
        ):
            sums[cg_id] += Decimal(target)
            counts[cg_id] += 1
    average = goal.type in AVERAGE_TYPES
    return {
        cg_id: ((sums[cg_id] / counts[cg_id]) if average else sums[cg_id], counts[cg_id])
        for cg_id in counts
    }


def _turned_on(goal: Goal, kind: NotificationKind) -> bool:
    return str(kind) in {str(k) for k in goal.notify or []}


def _base_payload(goal: Goal, account: Account) -> dict[str, Any]:
    return {
        "goal": {
            "id": goal.id,
            "name": goal.name,
            "type": str(goal.type),
            "unit": str(unit_of(goal.type)),
            "start_date": goal.start_date.isoformat(),
            "end_date": goal.end_date.isoformat(),
        },
        "currency": account.currency,
        "milestone": None,
        "value": None,
        "target": None,
        "status": None,
    }


def _decimal(value: Decimal | int | float | None) -> str | None:
    """Decimals travel as plain strings in JSON (never binary floats, never "1E+1")."""
    if value is None:
        return None
    number = Decimal(value)
    if number == number.to_integral_value():
        return str(number.quantize(Decimal(1)))
    return str(number.normalize())


async def _write(account: Account, causes: Sequence[_Cause]) -> list[int]:
    """Fan causes out to their recipients and channels in one statement: a user contributor, or
    every member of a team contributor at this moment; only active users, who can still sign in
    to read what they are sent. For a team the payload names who the message is about
    (``contributor``: team id and name; None for a user).

    Rows are inserted in the order of the causes, then recipient id, then channel; a key some
    row already holds is skipped, so a repeated cause writes nothing. Returns the ids of the new
    rows that need delivery."""
    if not causes:
        return []
    channels = [Channel.IN_APP, Channel.EMAIL]
    if account.webhook_url:
        channels.append(Channel.WEBHOOK)
    conn = connection()
    p = Params(is_postgres(conn))
    cause_rows = _rows_source(
        p,
        "c",
        [
            ("seq", "int"),
            ("contributor_goal_id", "int"),
            ("goal_id", "int"),
            ("kind", "text"),
            ("milestone_index", "int"),
            ("key_prefix", "text"),
            ("key_middle", "text"),
            ("payload", "json"),
        ],
        [
            (
                i,
                c.contributor_goal_id,
                c.goal_id,
                str(c.kind),
                c.milestone_index,
                c.key_prefix,
                c.key_middle,
                c.payload,
            )
            for i, c in enumerate(causes)
        ],
    )
    # The row is the in-app message: delivered as it is written.
    channel_rows = _rows_source(
        p,
        "ch",
        [("seq", "int"), ("channel", "text"), ("state", "text")],
        [
            (
                i,
                str(channel),
                str(DeliveryState.SENT if channel is Channel.IN_APP else DeliveryState.PENDING),
            )
            for i, channel in enumerate(channels)
        ],
    )
    account_id = p(account.id, "int")
    now = p.instant(utc_now())
    team = (
        "CASE WHEN cg.user_id IS NULL AND cg.team_id IS NOT NULL THEN "
        "{object}('team_id', cg.team_id, 'name', COALESCE(t.name, '')) END"
    )
    if p.postgres:
        payload = (
            "c.payload || jsonb_build_object('contributor', "
            f"{team.format(object='jsonb_build_object')})"
        )
    else:
        payload = f"json_set(c.payload, '$.contributor', json({team.format(object='json_object')}))"
    sent = str(DeliveryState.SENT)
    # Read as a query: the PostgreSQL client drops the rows an INSERT returns otherwise.
    written = await conn.execute_query_dict(
        "INSERT INTO notification (account_id, recipient_id, kind, channel, goal_id, "
        "contributor_goal_id, milestone_index, dedupe_key, payload, state, attempts, "
        "created_at, sent_at) "
        "SELECT cg.account_id, u.id, c.kind, ch.channel, c.goal_id, cg.id, c.milestone_index, "
        "c.key_prefix || CAST(u.id AS TEXT) || c.key_middle || ch.channel, "
        f"{payload}, ch.state, 0, {now}, "
        f"CASE WHEN ch.state = '{sent}' THEN {now} END "
        f"FROM {cause_rows} "
        f"JOIN contributor_goal cg ON cg.id = c.contributor_goal_id "
        f"LEFT JOIN team t ON t.id = cg.team_id AND t.account_id = {account_id} "
        "LEFT JOIN team_membership tm ON cg.user_id IS NULL AND tm.team_id = cg.team_id "
        f"AND tm.account_id = {account_id} "
        "JOIN app_user u ON u.id = COALESCE(cg.user_id, tm.user_id) "
        f"AND u.account_id = {account_id} AND u.active "
        f"CROSS JOIN {channel_rows} "
        f"WHERE cg.account_id = {account_id} "
        "ORDER BY c.seq, u.id, ch.seq "
        # A key some row holds already, or a concurrent writer inserted since: theirs stands.
        "ON CONFLICT (dedupe_key) DO NOTHING "
        "RETURNING id, state",
        p.values,
    )
    pending = str(DeliveryState.PENDING)
    return [row["id"] for row in written if row["state"] == pending]


def _rows_source(
    p: Params, name: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]
) -> str:
    """Rows sent as parameters, to join in a statement as table ``name``: PostgreSQL unnests one
    array per column; SQLite reads one JSON array of rows. ``columns`` are (name, type) pairs,
    the type one of int, text and json (a dict, as a JSON object)."""
    names = ", ".join(column for column, _ in columns)
    if p.postgres:
        arrays = []
        for i, (_, kind) in enumerate(columns):
            values = [row[i] for row in rows]
            if kind == "json":
                arrays.append(f"CAST({p([json.dumps(v) for v in values], 'text[]')} AS jsonb[])")
            else:
                arrays.append(p(values, "bigint[]" if kind == "int" else "text[]"))
        return f"unnest({', '.join(arrays)}) AS {name}({names})"
    placeholder = p(json.dumps([list(row) for row in rows]))
    extracted = ", ".join(
        f"json_extract(value, '$[{i}]') AS {column}" for i, (column, _) in enumerate(columns)
    )
    return f"(SELECT {extracted} FROM json_each({placeholder})) AS {name}"


async def _column(query: QuerySet[Any], field: str) -> list[Any]:
    """One column of a query's rows."""
    return [row[0] for row in await query.values_list(field)]


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


# ---------------------------------------------------------------- delivery states


async def claim_for_delivery(notification_id: int, now: datetime) -> Notification | None:
    """Take a PENDING row for one delivery attempt, atomically: of two deliveries of the same
    row only one gets it. Returns the row (with account and recipient) or None."""
    claimed = await Notification.filter(id=notification_id, state=DeliveryState.PENDING).update(
        state=DeliveryState.SENDING, attempts=F("attempts") + 1, claimed_at=now
    )
    if not claimed:
        return None
    return await Notification.get(id=notification_id).select_related("account", "recipient")


async def mark_sent(notification_id: int, now: datetime) -> None:
    await Notification.filter(id=notification_id, state=DeliveryState.SENDING).update(
        state=DeliveryState.SENT, sent_at=now, last_error=None
    )


async def mark_failed(notification_id: int, account_id: int, error: str) -> None:
    """Admins list failed deliveries: the account's answers change."""
    async with account_write(account_id):
        await Notification.filter(id=notification_id, state=DeliveryState.SENDING).update(
            state=DeliveryState.FAILED, last_error=error[:2000]
        )


async def release_for_retry(notification_id: int, error: str) -> None:
    """Give a claimed row back after a failed attempt, so that the retry can claim it again."""
    await Notification.filter(id=notification_id, state=DeliveryState.SENDING).update(
        state=DeliveryState.PENDING, last_error=error[:2000]
    )


async def due_for_sweep(
    now: datetime, *, pending_for: timedelta, stale_claim: timedelta, limit: int
) -> list[int]:
    """Rows whose delivery may have been lost: PENDING for longer than ``pending_for`` (Redis was
    down at commit time, or dropped the job), and SENDING claims older than ``stale_claim``
    (their worker died mid-attempt), which are given back first."""
    await Notification.filter(state=DeliveryState.SENDING, claimed_at__lt=now - stale_claim).update(
        state=DeliveryState.PENDING
    )
    cutoff = now - pending_for
    return await _column(
        Notification.filter(state=DeliveryState.PENDING, created_at__lt=cutoff)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=cutoff))
        .order_by("id")
        .limit(limit),
        "id",
    )


# ---------------------------------------------------------------- reading


async def in_app_page(
    account_id: int, recipient_id: int, *, unread_only: bool, offset: int, limit: int
) -> tuple[list[Notification], int]:
    """A page of a user's in-app notifications, newest first, fetched with one extra row to
    tell whether more follow; and their total count."""
    rows = Notification.filter(
        account_id=account_id, recipient_id=recipient_id, channel=Channel.IN_APP
    )
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    total = await rows.count()
    page = await rows.order_by("-id").offset(offset).limit(limit + 1)
    return list(page), total


async def failed_page(
    account_id: int, *, offset: int, limit: int
) -> tuple[list[Notification], int]:
    """Deliveries that gave up, newest first (with one extra row), and their total count."""
    rows = Notification.filter(account_id=account_id, state=DeliveryState.FAILED)
    total = await rows.count()
    page = await rows.order_by("-id").offset(offset).limit(limit + 1)
    return list(page), total


async def mark_read(
    account_id: int, recipient_id: int, ids: Sequence[int | None], now: datetime
) -> tuple[int, Errors]:
    """Mark the recipient's own in-app notifications read. Every id must be one of them (None
    stands for an id that did not decode); nothing changes when any is not. Returns how many
    were unread until now."""
    errors = Errors()
    if len(ids) > MAX_MARK_READ:
        errors.add(["ids"], ErrorCode.TOO_MANY, f"At most {MAX_MARK_READ} ids a call.")
        return 0, errors
    known = [i for i in ids if i is not None]
    own: set[int] = set()
    for chunk in _chunks(sorted(set(known))):
        own.update(
            await _column(
                Notification.filter(
                    account_id=account_id,
                    recipient_id=recipient_id,
                    channel=Channel.IN_APP,
                    id__in=chunk,
                ),
                "id",
            )
        )
    for position, notification_id in enumerate(ids):
        if notification_id is None or notification_id not in own:
            errors.add(["ids", position], ErrorCode.NOT_FOUND, "No such notification.")
    if errors or not own:
        return 0, errors
    updated = 0
    async with account_write(account_id):
        for chunk in _chunks(sorted(own)):
            updated += await Notification.filter(id__in=chunk, read_at__isnull=True).update(
                read_at=now
            )
    return updated, errors
