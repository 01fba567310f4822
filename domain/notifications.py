"""The notification outbox: rows written in the transaction of the change that causes them,
delivered after the commit.

Each row is one message for one recipient on one channel, unique by ``dedupe_key``: a repeated
refresh or a retried write adds nothing, while a second edit (a new change id) notifies again.
Delivery is somebody else's business (``workers/``); this module only records rows, hands their
ids to an installed dispatcher, and moves rows through their delivery states so that a delivery
that runs twice sends once.
"""

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

from domain.enums import (
    AVERAGE_TYPES,
    Channel,
    DeliveryState,
    GoalStatus,
    NotificationKind,
    unit_of,
)
from domain.errors import ErrorCode, Errors
from domain.models import (
    Account,
    ContributorGoal,
    Goal,
    Milestone,
    Notification,
    Team,
    TeamMembership,
    User,
)

log = structlog.get_logger("goals.notifications")

Dispatcher = Callable[[Sequence[int]], Awaitable[None]]

# SQLite caps bound parameters per statement; IN lists are sent in slices of this size.
CHUNK = 500
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
    """Something that happened to one contributor goal, before it is fanned out to people."""

    kind: NotificationKind
    contributor_goal: ContributorGoal
    goal: Goal
    milestone_index: int | None
    payload: dict[str, Any]
    # Builds the dedupe key from a recipient id and a channel.
    key: Callable[[int, Channel], str]


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
    wanted = [o for o in outcomes if o.status in FINAL_STATUSES]
    if not wanted:
        return []
    cg_ids = sorted({o.contributor_goal_id for o in wanted})
    contributor_goals: dict[int, ContributorGoal] = {}
    for chunk in _chunks(cg_ids):
        for row in await ContributorGoal.filter(account_id=account_id, id__in=chunk).select_related(
            "goal"
        ):
            contributor_goals[row.id] = row
    account = await Account.get(id=account_id)
    milestone_cg_ids = sorted(
        {
            o.contributor_goal_id
            for o in wanted
            if o.milestone_index is not None and o.contributor_goal_id in contributor_goals
        }
    )
    milestones: dict[tuple[int, int], Milestone] = {}
    indexes = sorted({o.milestone_index for o in wanted if o.milestone_index is not None})
    for chunk in _chunks(milestone_cg_ids):
        for found in await Milestone.filter(contributor_goal_id__in=chunk, index__in=indexes):
            milestones[(found.contributor_goal_id, found.index)] = found
    causes: list[_Cause] = []
    for outcome in wanted:
        cg = contributor_goals.get(outcome.contributor_goal_id)
        if cg is None:
            continue
        kind = _outcome_kind(outcome)
        if not _turned_on(cg.goal, kind):
            continue
        payload = _base_payload(cg.goal, account)
        if outcome.milestone_index is None:
            payload.update(
                value=_decimal(cg.value), target=_decimal(cg.target), status=str(outcome.status)
            )
        else:
            milestone = milestones.get((cg.id, outcome.milestone_index))
            if milestone is None:
                continue
            payload.update(
                milestone={
                    "index": milestone.index,
                    "start_date": milestone.start_date.isoformat(),
                    "end_date": milestone.end_date.isoformat(),
                },
                value=_decimal(milestone.value),
                target=_decimal(milestone.target),
                status=str(outcome.status),
            )
        causes.append(
            _Cause(
                kind=kind,
                contributor_goal=cg,
                goal=cg.goal,
                milestone_index=outcome.milestone_index,
                payload=payload,
                key=_outcome_key(kind, cg.id, outcome.milestone_index),
            )
        )
    return await _write(account, causes)


def _outcome_kind(outcome: Outcome) -> NotificationKind:
    if outcome.milestone_index is None:
        return NotificationKind.GOAL_COMPLETED
    if outcome.status in FINAL_ACHIEVED:
        return NotificationKind.MILESTONE_ACHIEVED
    return NotificationKind.MILESTONE_MISSED


def _outcome_key(
    kind: NotificationKind, contributor_goal_id: int, milestone_index: int | None
) -> Callable[[int, Channel], str]:
    milestone = "goal" if milestone_index is None else str(milestone_index)

    def key(recipient_id: int, channel: Channel) -> str:
        return f"outcome:{recipient_id}:{kind}:{contributor_goal_id}:{milestone}:{channel}"

    return key


def _change_key(
    change_id: str, kind: NotificationKind, contributor_goal_id: int
) -> Callable[[int, Channel], str]:
    def key(recipient_id: int, channel: Channel) -> str:
        return f"change:{change_id}:{kind}:{contributor_goal_id}:{recipient_id}:{channel}"

    return key


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
        causes.append(
            _Cause(
                kind=kind,
                contributor_goal=cg,
                goal=goal,
                milestone_index=None,
                payload=payload,
                key=_change_key(change_id, kind, cg.id),
            )
        )
    return await _write(account, causes)


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
    if not causes:
        return []
    recipients = await _recipients(account.id, [c.contributor_goal for c in causes])
    channels = [Channel.IN_APP, Channel.EMAIL]
    if account.webhook_url:
        channels.append(Channel.WEBHOOK)
    wanted: dict[str, tuple[_Cause, int, Channel]] = {}
    for cause in causes:
        for recipient_id in recipients.by_contributor_goal.get(cause.contributor_goal.id, ()):
            for channel in channels:
                wanted.setdefault(cause.key(recipient_id, channel), (cause, recipient_id, channel))
    new_keys = await _new_keys(list(wanted))
    if not new_keys:
        return []
    now = utc_now()
    payloads: dict[int, dict[str, Any]] = {}
    rows: list[Notification] = []
    for key in new_keys:
        cause, recipient_id, channel = wanted[key]
        payload = payloads.get(id(cause))
        if payload is None:
            contributor = recipients.contributor_names.get(cause.contributor_goal.id)
            payload = payloads[id(cause)] = {**cause.payload, "contributor": contributor}
        in_app = channel is Channel.IN_APP
        rows.append(
            Notification(
                account_id=account.id,
                recipient_id=recipient_id,
                kind=cause.kind,
                channel=channel,
                goal_id=cause.goal.id,
                contributor_goal_id=cause.contributor_goal.id,
                milestone_index=cause.milestone_index,
                dedupe_key=key,
                payload=payload,
                # The row is the in-app message: delivered as it is written.
                state=DeliveryState.SENT if in_app else DeliveryState.PENDING,
                sent_at=now if in_app else None,
            )
        )
    # Conflicts are rows a concurrent writer inserted since the check: theirs stand.
    await Notification.bulk_create(rows, batch_size=CHUNK, ignore_conflicts=True)
    pending_keys = [r.dedupe_key for r in rows if r.state == DeliveryState.PENDING]
    ids: list[int] = []
    for chunk in _chunks(pending_keys):
        ids.extend(
            await _column(
                Notification.filter(dedupe_key__in=chunk, state=DeliveryState.PENDING), "id"
            )
        )
    return sorted(ids)


async def _new_keys(keys: Sequence[str]) -> list[str]:
    """The keys no row holds yet: a repeated cause builds no rows at all."""
    existing: set[str] = set()
    for chunk in _chunks(keys):
        existing.update(await _column(Notification.filter(dedupe_key__in=chunk), "dedupe_key"))
    return [k for k in keys if k not in existing]


@dataclass(frozen=True, slots=True)
class _Recipients:
    by_contributor_goal: dict[int, list[int]]
    # For a team contributor, who the message is about: {"team_id", "name"}; None for a user.
    contributor_names: dict[int, dict[str, Any] | None]


async def _recipients(account_id: int, contributor_goals: Iterable[ContributorGoal]) -> _Recipients:
    """A user contributor, or every member of a team contributor at this moment; only active
    users, who can still sign in to read what they are sent."""
    cgs = {cg.id: cg for cg in contributor_goals}
    team_ids = sorted({cg.team_id for cg in cgs.values() if cg.team_id is not None})
    members: dict[int, list[int]] = defaultdict(list)
    team_names: dict[int, str] = {}
    if team_ids:
        for team_id, name in await Team.filter(account_id=account_id, id__in=team_ids).values_list(
            "id", "name"
        ):
            team_names[team_id] = name
        for team_id, user_id in (
            await TeamMembership.filter(account_id=account_id, team_id__in=team_ids)
            .order_by("user_id")
            .values_list("team_id", "user_id")
        ):
            members[team_id].append(user_id)
    candidates = {cg.user_id for cg in cgs.values() if cg.user_id is not None}
    for ids in members.values():
        candidates.update(ids)
    active: set[int] = set()
    for chunk in _chunks(sorted(candidates)):
        active.update(
            await _column(User.filter(account_id=account_id, id__in=chunk, active=True), "id")
        )
    by_cg: dict[int, list[int]] = {}
    names: dict[int, dict[str, Any] | None] = {}
    for cg in cgs.values():
        if cg.user_id is not None:
            by_cg[cg.id] = [cg.user_id] if cg.user_id in active else []
            names[cg.id] = None
        elif cg.team_id is not None:
            by_cg[cg.id] = [u for u in members.get(cg.team_id, []) if u in active]
            names[cg.id] = {"team_id": cg.team_id, "name": team_names.get(cg.team_id, "")}
    return _Recipients(by_contributor_goal=by_cg, contributor_names=names)


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


async def mark_failed(notification_id: int, error: str) -> None:
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
    for chunk in _chunks(sorted(own)):
        updated += await Notification.filter(id__in=chunk, read_at__isnull=True).update(read_at=now)
    return updated, errors
