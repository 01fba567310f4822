"""The directory (users, teams, pipelines): listings and batch upserts by external id.

Upserts are set-based: the rows a batch touches are read in one query, the batch is written
with one INSERT ... ON CONFLICT (account, external id) DO UPDATE, and a team batch replaces
memberships with one DELETE and one INSERT, whatever the batch size.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Lower
from tortoise.queryset import QuerySet

from domain.batches import (
    EXTERNAL_KEY,
    ITEMS_PATH,
    ItemErrors,
    Upserted,
    clean_name,
    find_user,
    lookup_keys,
    start_batch,
    user_ids_by_external_id,
    write_batch,
)
from domain.data_version import account_write
from domain.enums import GoalPermission, ObjectType, Seat
from domain.errors import ErrorCode, ValidationFailed
from domain.models import Pipeline, Team, TeamMembership, User

MAX_EMAIL = 320
# Deliberately loose: one @, no spaces, a dotted domain. Deliverability is the CRM's concern.
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
T = TypeVar("T")


# ---------------------------------------------------------------- listings


@dataclass(frozen=True, slots=True)
class UserFilter:
    """A contributor picker's question; None is no constraint."""

    search: str | None = None
    seats: tuple[Seat, ...] | None = None
    active: bool | None = None


# Trigrams need three characters: a shorter search cannot use the indexes and reads the table.
SHORTEST_INDEXED_SEARCH = 3
Listed = TypeVar("Listed", User, Team)


def search_names(
    query: QuerySet[Listed], search: str | None, *, with_email: bool
) -> QuerySet[Listed]:
    """Rows whose name (or email) contains ``search``, case-insensitively.

    PostgreSQL answers from the trigram indexes on ``upper(name)`` and ``upper(email)``
    (migration 0002). A search too short for them is written as a statement of its own, on
    ``lower(...)``, so that PostgreSQL's cached plan for it is a scan, never the indexes' (whose
    full walk is slower than reading the table)."""
    if not search:
        return query
    if len(search) >= SHORTEST_INDEXED_SEARCH:
        found = Q(name__icontains=search)
        return query.filter(found | Q(email__icontains=search) if with_email else found)
    lowered = search.lower()
    if with_email:
        query = query.annotate(name_lower=Lower("name"), email_lower=Lower("email"))
        return query.filter(Q(name_lower__contains=lowered) | Q(email_lower__contains=lowered))
    return query.annotate(name_lower=Lower("name")).filter(name_lower__contains=lowered)


def users_matching(account_id: int, matching: UserFilter | None) -> QuerySet[User]:
    query = User.filter(account_id=account_id)
    if matching is not None:
        query = search_names(query, matching.search, with_email=True)
        if matching.seats is not None:
            query = query.filter(seat__in=matching.seats)
        if matching.active is not None:
            query = query.filter(active=matching.active)
    return query


def teams_matching(account_id: int, search: str | None) -> QuerySet[Team]:
    return search_names(Team.filter(account_id=account_id), search, with_email=False)


async def list_users(
    account_id: int, *, offset: int, limit: int, matching: UserFilter | None = None
) -> tuple[list[User], int]:
    """A page of the account's users by name then id (one row more, to tell if more follow),
    and how many match."""
    query = users_matching(account_id, matching)
    rows = await query.order_by("name", "id").offset(offset).limit(limit + 1)
    return rows, await query.count()


async def list_teams(
    account_id: int, *, offset: int, limit: int, search: str | None = None
) -> tuple[list[Team], int]:
    query = teams_matching(account_id, search)
    rows = await query.order_by("name", "id").offset(offset).limit(limit + 1)
    return rows, await query.count()


async def list_pipelines(account_id: int) -> list[Pipeline]:
    return await Pipeline.filter(account_id=account_id).order_by("name", "id")


# ---------------------------------------------------------------- users


@dataclass(frozen=True, slots=True)
class UserItem:
    """One user of a sync. A field left None keeps the stored value (a new user: the default)."""

    external_id: str
    email: str
    name: str
    seat: Seat | None = None
    goal_permission: GoalPermission | None = None
    is_admin: bool | None = None
    active: bool | None = None


def _clean_email(problems: ItemErrors, index: int, email: str) -> str:
    cleaned = email.strip().lower()
    if not cleaned:
        problems.add(index, "email", ErrorCode.REQUIRED, "The email address is empty.")
    elif len(cleaned) > MAX_EMAIL:
        problems.add(
            index, "email", ErrorCode.INVALID, f"The email is longer than {MAX_EMAIL} characters."
        )
    elif not EMAIL.match(cleaned):
        problems.add(index, "email", ErrorCode.INVALID, f"{email!r} is not an email address.")
    return cleaned


def _match_existing(
    items: Sequence[UserItem], emails: list[str], existing: list[User], problems: ItemErrors
) -> dict[int, User]:
    """The stored user each item updates: by external id, or a user without one by email.

    Linking by email lets a user created before the first sync (the bootstrap admin) be
    adopted by the CRM's record instead of colliding with it.
    """
    by_external_id = {u.external_id: u for u in existing if u.external_id is not None}
    unlinked_by_email = {u.email.lower(): u for u in existing if u.external_id is None}
    targets: dict[int, User] = {}
    for index, item in enumerate(items):
        if index in problems.bad:
            continue
        found = by_external_id.get(item.external_id) or unlinked_by_email.pop(emails[index], None)
        if found is not None:
            targets[index] = found
    return targets


Holder = tuple[str, int]  # ("user", stored user id) or ("item", batch index)


def _email_clash(
    good: list[int], emails: list[str], targets: dict[int, User], existing: list[User]
) -> tuple[int, Holder] | None:
    """The first item whose email someone else would also have after the batch, and that one.

    Users the batch rewrites give their stored email up, so two users may swap addresses.
    """
    rewritten = {targets[i].id for i in good if i in targets}
    holders: dict[str, Holder] = {
        u.email.lower(): ("user", u.id) for u in existing if u.id not in rewritten
    }
    for index in good:
        me: Holder = ("user", targets[index].id) if index in targets else ("item", index)
        holder = holders.setdefault(emails[index], me)
        if holder != me:
            return index, holder
    return None


async def upsert_users(
    actor: User, items: Sequence[UserItem], *, allow_partial: bool = False
) -> Upserted:
    problems = start_batch(actor, [item.external_id for item in items])
    account_id = actor.account_id
    emails = [_clean_email(problems, i, item.email) for i, item in enumerate(items)]
    names = [clean_name(problems, i, item.name) for i, item in enumerate(items)]

    existing = await (
        User.annotate(email_lower=Lower("email"))
        .filter(account_id=account_id)
        .filter(
            Q(external_id__in=lookup_keys(item.external_id for item in items))
            | Q(email_lower__in=lookup_keys(emails, MAX_EMAIL))
        )
    )
    targets = _match_existing(items, emails, existing, problems)
    for index, target in targets.items():
        item = items[index]
        if target.id == actor.id and (item.is_admin is False or item.active is False):
            field_name = "is_admin" if item.is_admin is False else "active"
            problems.add(
                index,
                field_name,
                ErrorCode.INVALID,
                "You cannot remove your own admin rights or deactivate yourself.",
            )
    while clash := _email_clash(problems.good(len(items)), emails, targets, existing):
        index, (kind, number) = clash
        holder = f"item {number}" if kind == "item" else "another user of the account"
        problems.add(
            index, "email", ErrorCode.DUPLICATE, f"{emails[index]!r} is also the email of {holder}."
        )
    problems.refuse_unless_applicable(allow_partial)

    good = problems.good(len(items))
    rows: list[User] = []
    for index in good:
        item, previous = items[index], targets.get(index)
        rows.append(
            User(
                account_id=account_id,
                external_id=item.external_id,
                email=emails[index],
                name=names[index],
                seat=_keep(item.seat, previous.seat if previous else None, Seat.PAID),
                goal_permission=_keep(
                    item.goal_permission,
                    previous.goal_permission if previous else None,
                    GoalPermission.OWN,
                ),
                is_admin=_keep(item.is_admin, previous.is_admin if previous else None, False),
                active=_keep(item.active, previous.active if previous else None, True),
            )
        )
    to_link: list[User] = []
    for index in good:
        stored = targets.get(index)
        if stored is not None and stored.external_id is None:
            stored.external_id = items[index].external_id
            to_link.append(stored)
    # Unique emails are checked row by row: park the addresses that another item takes over,
    # so that users may swap addresses within one batch.
    claimed = {emails[i] for i in good}
    to_vacate = [
        targets[i]
        for i in good
        if i in targets
        and targets[i].email.lower() != emails[i]
        and targets[i].email.lower() in claimed
    ]
    try:
        async with account_write(account_id):
            if to_link:
                await User.bulk_update(to_link, fields=["external_id"])
            if to_vacate:
                for user in to_vacate:
                    user.email = f"{user.id}@vacated.invalid"
                await User.bulk_update(to_vacate, fields=["email"])
            await User.bulk_create(
                rows,
                on_conflict=EXTERNAL_KEY,
                update_fields=("email", "name", "seat", "goal_permission", "is_admin", "active"),
            )
    except IntegrityError:
        raise ValidationFailed.one(
            ITEMS_PATH,
            ErrorCode.DUPLICATE,
            "Another change to the same users landed meanwhile; nothing was applied. "
            "Send it again.",
        ) from None
    return problems.written(len(rows))


def _keep(given: T | None, stored: T | None, default: T) -> T:
    if given is not None:
        return given
    return stored if stored is not None else default


# ---------------------------------------------------------------- teams


@dataclass(frozen=True, slots=True)
class TeamItem:
    """One team of a sync. ``member_external_ids`` replaces the membership; None keeps it."""

    external_id: str
    name: str
    member_external_ids: Sequence[str] | None = None


async def upsert_teams(
    actor: User, items: Sequence[TeamItem], *, allow_partial: bool = False
) -> Upserted:
    problems = start_batch(actor, [item.external_id for item in items])
    account_id = actor.account_id
    names = [clean_name(problems, i, item.name) for i, item in enumerate(items)]
    wanted = {m for item in items for m in item.member_external_ids or ()}
    user_ids = await user_ids_by_external_id(account_id, wanted)
    members: dict[int, set[int]] = {}
    for index, item in enumerate(items):
        if item.member_external_ids is None:
            continue
        members[index] = set()
        for position, member in enumerate(item.member_external_ids):
            user_id = find_user(
                problems, index, ("member_external_ids", position), member, user_ids
            )
            if user_id is not None:
                members[index].add(user_id)
    problems.refuse_unless_applicable(allow_partial)

    good = problems.good(len(items))
    rows = [
        Team(account_id=account_id, external_id=items[i].external_id, name=names[i]) for i in good
    ]
    replaced = [i for i in good if i in members]
    async with account_write(account_id):
        await Team.bulk_create(rows, on_conflict=EXTERNAL_KEY, update_fields=("name",))
        if replaced:
            team_ids = dict(
                await Team.filter(
                    account_id=account_id,
                    external_id__in=[items[i].external_id for i in replaced],
                ).values_list("external_id", "id")
            )
            await TeamMembership.filter(
                account_id=account_id, team_id__in=list(team_ids.values())
            ).delete()
            await TeamMembership.bulk_create(
                [
                    TeamMembership(
                        account_id=account_id,
                        team_id=team_ids[items[i].external_id],
                        user_id=user_id,
                    )
                    for i in replaced
                    for user_id in sorted(members[i])
                ]
            )
    return problems.written(len(rows))


# ---------------------------------------------------------------- pipelines


@dataclass(frozen=True, slots=True)
class PipelineItem:
    external_id: str
    object_type: ObjectType
    name: str


async def upsert_pipelines(
    actor: User, items: Sequence[PipelineItem], *, allow_partial: bool = False
) -> Upserted:
    problems = start_batch(actor, [item.external_id for item in items])
    account_id = actor.account_id
    names = [clean_name(problems, i, item.name) for i, item in enumerate(items)]
    stored_types = dict(
        await Pipeline.filter(
            account_id=account_id,
            external_id__in=lookup_keys(item.external_id for item in items),
        ).values_list("external_id", "object_type")
    )
    for index, item in enumerate(items):
        stored = stored_types.get(item.external_id)
        if stored is not None and ObjectType(stored) != item.object_type:
            # Goals and records already point at it as a pipeline of the stored kind.
            problems.add(
                index,
                "object_type",
                ErrorCode.IMMUTABLE,
                f"Pipeline {item.external_id!r} holds {ObjectType(stored).lower()}s; "
                "its object type cannot change.",
            )
    rows = [
        Pipeline(
            account_id=account_id,
            external_id=items[i].external_id,
            object_type=items[i].object_type,
            name=names[i],
        )
        for i in problems.good(len(items))
    ]
    return await write_batch(
        problems, allow_partial, Pipeline, rows, ("name",), account_id=account_id
    )
