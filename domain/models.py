"""Tortoise models. Every row belongs to exactly one account."""

from typing import Any, TypedDict

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from domain.enums import (
    Channel,
    DeliveryState,
    EngagementKind,
    GoalCategory,
    GoalPermission,
    GoalType,
    MilestonePeriod,
    NotificationKind,
    ObjectType,
    PaceStatus,
    RecordKind,
    Seat,
)


class DecimalSize(TypedDict):
    """The precision of a decimal column, spread into ``fields.DecimalField``."""

    max_digits: int
    decimal_places: int


# Targets and values: exact decimals. Four places keep cents and sub-cent currencies exact.
MONEY: DecimalSize = {"max_digits": 20, "decimal_places": 4}
# Sums of seconds or money over many records need more integer digits.
TOTAL: DecimalSize = {"max_digits": 28, "decimal_places": 4}
# Pace ratios: at most 15 significant digits (domain/pace.py caps them), which a double holds
# exactly, so SQLite orders them as PostgreSQL does.
RATIO: DecimalSize = {"max_digits": 16, "decimal_places": 4}
# What one record contributed to a milestone: an amount (4 places) or seconds (microseconds).
CONTRIBUTION: DecimalSize = {"max_digits": 30, "decimal_places": 6}


class Account(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    timezone = fields.CharField(max_length=64, default="UTC")
    fiscal_year_start_month = fields.SmallIntField(default=1)
    currency = fields.CharField(max_length=3, default="USD")
    webhook_url = fields.CharField(max_length=2000, null=True)
    webhook_secret = fields.CharField(max_length=500, null=True)
    refresh_hour = fields.SmallIntField(null=True)
    last_refresh_date = fields.DateField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Moves in the transaction of every write that can change an answer (domain/data_version.py).
    data_version = fields.BigIntField(default=0, db_default=0)

    class Meta:
        table = "account"


class User(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation["Account"] = fields.ForeignKeyField(
        "models.Account", related_name="users"
    )
    account_id: int
    external_id = fields.CharField(max_length=200, null=True)
    email = fields.CharField(max_length=320)
    name = fields.CharField(max_length=200)
    seat = fields.CharEnumField(Seat, max_length=8, default=Seat.PAID)
    goal_permission = fields.CharEnumField(GoalPermission, max_length=8, default=GoalPermission.OWN)
    is_admin = fields.BooleanField(default=False)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "app_user"
        unique_together = (("account", "email"), ("account", "external_id"))


class Team(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation["Account"] = fields.ForeignKeyField(
        "models.Account", related_name="teams"
    )
    account_id: int
    external_id = fields.CharField(max_length=200, null=True)
    name = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "team"
        unique_together = (("account", "external_id"),)


class TeamMembership(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation["Account"] = fields.ForeignKeyField(
        "models.Account", related_name="team_memberships"
    )
    account_id: int
    team: fields.ForeignKeyRelation["Team"] = fields.ForeignKeyField(
        "models.Team", related_name="memberships"
    )
    team_id: int
    user: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="memberships"
    )
    user_id: int

    class Meta:
        table = "team_membership"
        unique_together = (("team", "user"),)
        indexes = (Index(fields=("user_id", "team_id")),)


class Pipeline(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation["Account"] = fields.ForeignKeyField(
        "models.Account", related_name="pipelines"
    )
    account_id: int
    external_id = fields.CharField(max_length=200)
    object_type = fields.CharEnumField(ObjectType, max_length=8)
    name = fields.CharField(max_length=200)

    class Meta:
        table = "pipeline"
        unique_together = (("account", "external_id"),)


class Ticket(Model):
    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation["Account"] = fields.ForeignKeyField(
        "models.Account", related_name="tickets"
    )
    account_id: int
    external_id = fields.CharField(max_length=200)
    pipeline: fields.ForeignKeyRelation["Pipeline"] = fields.ForeignKeyField(
        "models.Pipeline", related_name="tickets"
    )
    pipeline_id: int
    owner: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="tickets"
    )
    owner_id: int
    created_at = fields.DatetimeField()
    first_responded_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "ticket"
        unique_together = (("account", "external_id"),)
        indexes = (
            Index(fields=("account_id", "owner_id", "pipeline_id", "created_at")),
            Index(fields=("account_id", "owner_id", "pipeline_id", "closed_at")),
        )


class Deal(Model):
    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation["Account"] = fields.ForeignKeyField(
        "models.Account", related_name="deals"
    )
    account_id: int
    external_id = fields.CharField(max_length=200)
    pipeline: fields.ForeignKeyRelation["Pipeline"] = fields.ForeignKeyField(
        "models.Pipeline", related_name="deals"
    )
    pipeline_id: int
    owner: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="deals"
    )
    owner_id: int
    amount = fields.DecimalField(**MONEY)
    created_at = fields.DatetimeField()
    closed_won_at = fields.DatetimeField(null=True)

    class Meta:
        table = "deal"
        unique_together = (("account", "external_id"),)
        indexes = (
            Index(fields=("account_id", "owner_id", "pipeline_id", "created_at")),
            Index(fields=("account_id", "owner_id", "pipeline_id", "closed_won_at")),
        )


class Engagement(Model):
    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation["Account"] = fields.ForeignKeyField(
        "models.Account", related_name="engagements"
    )
    account_id: int
    external_id = fields.CharField(max_length=200)
    kind = fields.CharEnumField(EngagementKind, max_length=8)
    owner: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="engagements"
    )
    owner_id: int
    occurred_at = fields.DatetimeField()

    class Meta:
        table = "engagement"
        unique_together = (("account", "external_id"),)
        indexes = (Index(fields=("account_id", "owner_id", "kind", "occurred_at")),)


class Goal(Model):
    # What a manager creates in one go. Rolled-up progress is stored for filtering and ordering.

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation["Account"] = fields.ForeignKeyField(
        "models.Account", related_name="goals"
    )
    account_id: int
    name = fields.CharField(max_length=200)
    category = fields.CharEnumField(GoalCategory, max_length=8)
    type = fields.CharEnumField(GoalType, max_length=32)
    start_date = fields.DateField()
    end_date = fields.DateField()
    milestone_period = fields.CharEnumField(MilestonePeriod, max_length=10)
    align_to_fiscal_year = fields.BooleanField(default=False)
    notify: fields.JSONField[list[str]] = fields.JSONField(default=list)
    created_by: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="created_goals", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    # Roll-up of the contributor goals, rewritten by every refresh and target edit.
    value = fields.DecimalField(**TOTAL, null=True)
    target = fields.DecimalField(**TOTAL, default=0)
    percent = fields.DecimalField(max_digits=24, decimal_places=2, null=True)
    refreshed_at = fields.DatetimeField(null=True)
    # Pace as of the last refresh (domain/pace.py), rewritten with the roll-up; null until the
    # first refresh.
    pace_expected = fields.DecimalField(**TOTAL, null=True)
    pace_projected = fields.DecimalField(**TOTAL, null=True)
    pace_ratio = fields.DecimalField(**RATIO, null=True)
    pace_status = fields.CharEnumField(PaceStatus, max_length=8, null=True)

    class Meta:
        table = "goal"
        indexes = (Index(fields=("account_id", "start_date", "end_date")),)


class GoalPipeline(Model):
    id = fields.IntField(primary_key=True)
    goal: fields.ForeignKeyRelation["Goal"] = fields.ForeignKeyField(
        "models.Goal", related_name="goal_pipelines"
    )
    goal_id: int
    pipeline: fields.ForeignKeyRelation["Pipeline"] = fields.ForeignKeyField(
        "models.Pipeline", related_name="goal_pipelines"
    )
    pipeline_id: int

    class Meta:
        table = "goal_pipeline"
        unique_together = (("goal", "pipeline"),)


class ContributorGoal(Model):
    # One contributor's share of a goal: a user or a team, never both.

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation["Account"] = fields.ForeignKeyField(
        "models.Account", related_name="contributor_goals"
    )
    account_id: int
    goal: fields.ForeignKeyRelation["Goal"] = fields.ForeignKeyField(
        "models.Goal", related_name="contributor_goals"
    )
    goal_id: int
    user: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="contributor_goals", null=True
    )
    user_id: int | None
    team: fields.ForeignKeyNullableRelation["Team"] = fields.ForeignKeyField(
        "models.Team", related_name="contributor_goals", null=True
    )
    team_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    # Roll-up of the milestones: sums for counts and money, sum/count for the averages.
    value = fields.DecimalField(**TOTAL, null=True)
    value_sum = fields.DecimalField(**TOTAL, null=True)
    value_count = fields.BigIntField(null=True)
    target = fields.DecimalField(**TOTAL, default=0)
    percent = fields.DecimalField(max_digits=24, decimal_places=2, null=True)
    final = fields.BooleanField(default=False)
    refreshed_at = fields.DatetimeField(null=True)
    # Pace as of the last refresh (domain/pace.py), rewritten with the roll-up; null until the
    # first refresh.
    pace_expected = fields.DecimalField(**TOTAL, null=True)
    pace_projected = fields.DecimalField(**TOTAL, null=True)
    pace_ratio = fields.DecimalField(**RATIO, null=True)
    pace_status = fields.CharEnumField(PaceStatus, max_length=8, null=True)

    class Meta:
        table = "contributor_goal"
        unique_together = (("goal", "user"), ("goal", "team"))
        indexes = (Index(fields=("account_id", "user_id")), Index(fields=("account_id", "team_id")))


class Milestone(Model):
    id = fields.BigIntField(primary_key=True)
    contributor_goal: fields.ForeignKeyRelation["ContributorGoal"] = fields.ForeignKeyField(
        "models.ContributorGoal", related_name="milestones"
    )
    contributor_goal_id: int
    index = fields.IntField()
    start_date = fields.DateField()
    end_date = fields.DateField()
    target = fields.DecimalField(**MONEY, default=0)
    # Counts and sums: value. Averages: value = value_sum / value_count, both kept.
    value = fields.DecimalField(**TOTAL, null=True)
    value_sum = fields.DecimalField(**TOTAL, null=True)
    value_count = fields.BigIntField(null=True)
    final = fields.BooleanField(default=False)
    refreshed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "milestone"
        unique_together = (("contributor_goal", "index"),)


class MilestoneRecord(Model):
    # A record behind a final milestone's value, kept as it counted when the milestone froze,
    # so that the list adds up to the frozen value whatever happens to the record later.

    id = fields.BigIntField(primary_key=True)
    milestone: fields.ForeignKeyRelation["Milestone"] = fields.ForeignKeyField(
        "models.Milestone", related_name="kept_records"
    )
    milestone_id: int
    kind = fields.CharEnumField(RecordKind, max_length=8)
    record_id = fields.BigIntField()
    external_id = fields.CharField(max_length=200)
    # The owner and pipeline when the milestone froze (users and pipelines are never deleted).
    owner_id = fields.IntField()
    pipeline_id = fields.IntField(null=True)
    counted_at = fields.DatetimeField()
    contribution = fields.DecimalField(**CONTRIBUTION)

    class Meta:
        table = "milestone_record"
        indexes = (Index(fields=("milestone_id", "counted_at")),)


class MilestonePipeline(Model):
    id = fields.BigIntField(primary_key=True)
    milestone: fields.ForeignKeyRelation["Milestone"] = fields.ForeignKeyField(
        "models.Milestone", related_name="milestone_pipelines"
    )
    milestone_id: int
    pipeline: fields.ForeignKeyRelation["Pipeline"] = fields.ForeignKeyField(
        "models.Pipeline", related_name="milestone_pipelines"
    )
    pipeline_id: int

    class Meta:
        table = "milestone_pipeline"
        unique_together = (("milestone", "pipeline"),)


class LiveProgress(Model):
    # Record upserts count their changes here; a refresh of the whole account notes the count
    # it has seen. More changes than seen: the account is due a live refresh (domain/live.py).

    account: fields.OneToOneRelation["Account"] = fields.OneToOneField(
        "models.Account", related_name="live_progress", primary_key=True
    )
    account_id: int
    record_changes = fields.BigIntField(default=0)
    refreshed_changes = fields.BigIntField(default=0)

    class Meta:
        table = "live_progress"


class ProgressSnapshot(Model):
    # One per contributor goal per local date; the day's last refresh overwrites it.

    id = fields.BigIntField(primary_key=True)
    contributor_goal: fields.ForeignKeyRelation["ContributorGoal"] = fields.ForeignKeyField(
        "models.ContributorGoal", related_name="snapshots"
    )
    contributor_goal_id: int
    date = fields.DateField()
    value = fields.DecimalField(**TOTAL, null=True)
    percent = fields.DecimalField(max_digits=24, decimal_places=2, null=True)

    class Meta:
        table = "progress_snapshot"
        unique_together = (("contributor_goal", "date"),)


class ApiToken(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation["Account"] = fields.ForeignKeyField(
        "models.Account", related_name="api_tokens"
    )
    account_id: int
    user: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="api_tokens"
    )
    user_id: int
    name = fields.CharField(max_length=200)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"


class Notification(Model):
    # The outbox: one row per cause, recipient and channel, unique by ``dedupe_key``.

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation["Account"] = fields.ForeignKeyField(
        "models.Account", related_name="notifications"
    )
    account_id: int
    recipient: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="notifications"
    )
    recipient_id: int
    kind = fields.CharEnumField(NotificationKind, max_length=24)
    channel = fields.CharEnumField(Channel, max_length=8)
    goal: fields.ForeignKeyNullableRelation["Goal"] = fields.ForeignKeyField(
        "models.Goal", related_name="notifications", null=True, on_delete=fields.SET_NULL
    )
    goal_id: int | None
    contributor_goal: fields.ForeignKeyNullableRelation["ContributorGoal"] = fields.ForeignKeyField(
        "models.ContributorGoal",
        related_name="notifications",
        null=True,
        on_delete=fields.SET_NULL,
    )
    contributor_goal_id: int | None
    milestone_index = fields.IntField(null=True)
    dedupe_key = fields.CharField(max_length=255, unique=True)
    payload: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    state = fields.CharEnumField(DeliveryState, max_length=8, default=DeliveryState.PENDING)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # When a delivery last claimed the row; a SENDING claim this old was lost with its worker.
    claimed_at = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification"
        indexes = (
            Index(fields=("recipient_id", "channel", "id")),
            Index(fields=("state", "created_at")),
        )
