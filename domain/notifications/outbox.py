"""The notification outbox: rows written in the transaction of the change that causes them.

Each row is one message for one recipient on one channel, unique by ``dedupe_key``: a repeated
refresh or a retried write adds nothing, while a second edit (a new change id) notifies again.
Recording returns the ids of new rows that need delivery; pass them to
``dispatch.after_commit`` once the transaction commits."""

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tortoise.timezone import now as utc_now

from domain.enums import (
    AVERAGE_TYPES,
    Channel,
    DeliveryState,
    GoalStatus,
    NotificationKind,
    unit_of,
)
from domain.models import Account, ContributorGoal, Goal, Milestone
from domain.sql import FOUR_PLACES, Params, chunks, connection, is_postgres, to_date, to_decimal

# Outcomes recorded per pair of statements, which bounds the memory a year's freeze takes.
OUTCOMES_PER_STATEMENT = 20_000
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
    for chunk in chunks(missing):
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
    for chunk in chunks(sorted(set(cg_ids))):
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
