"""Enumerations of the product's vocabulary, shared by models, rules and the API."""

from enum import StrEnum


class Seat(StrEnum):
    PAID = "PAID"
    FREE = "FREE"


class GoalPermission(StrEnum):
    OWN = "OWN"
    TEAM = "TEAM"
    ALL = "ALL"


class ObjectType(StrEnum):
    TICKET = "TICKET"
    DEAL = "DEAL"


class EngagementKind(StrEnum):
    CALL = "CALL"
    MEETING = "MEETING"


class GoalCategory(StrEnum):
    SALES = "SALES"
    SERVICE = "SERVICE"


class GoalType(StrEnum):
    REVENUE = "REVENUE"
    DEALS_CREATED = "DEALS_CREATED"
    CALLS_LOGGED = "CALLS_LOGGED"
    MEETINGS_BOOKED = "MEETINGS_BOOKED"
    CLOSED_TICKETS = "CLOSED_TICKETS"
    AVG_TICKET_RESPONSE_TIME = "AVG_TICKET_RESPONSE_TIME"
    AVG_TICKET_RESOLUTION_TIME = "AVG_TICKET_RESOLUTION_TIME"


class Unit(StrEnum):
    CURRENCY = "CURRENCY"
    SECONDS = "SECONDS"
    COUNT = "COUNT"


class MilestonePeriod(StrEnum):
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"
    QUARTERLY = "QUARTERLY"
    YEARLY = "YEARLY"


class GoalStatus(StrEnum):
    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    ACHIEVED = "ACHIEVED"
    EXCEEDED = "EXCEEDED"
    MISSED = "MISSED"


class PaceStatus(StrEnum):
    """Where a goal stands against the share of its target due by now (SPEC section 8)."""

    AHEAD = "AHEAD"
    ON_TRACK = "ON_TRACK"
    BEHIND = "BEHIND"
    AT_RISK = "AT_RISK"


class RecordKind(StrEnum):
    """The CRM record behind a number."""

    TICKET = "TICKET"
    DEAL = "DEAL"
    CALL = "CALL"
    MEETING = "MEETING"


class NotificationKind(StrEnum):
    GOAL_ASSIGNED = "GOAL_ASSIGNED"
    TARGETS_CHANGED = "TARGETS_CHANGED"
    MILESTONE_ACHIEVED = "MILESTONE_ACHIEVED"
    MILESTONE_MISSED = "MILESTONE_MISSED"
    GOAL_COMPLETED = "GOAL_COMPLETED"


class Channel(StrEnum):
    IN_APP = "IN_APP"
    EMAIL = "EMAIL"
    WEBHOOK = "WEBHOOK"


class DeliveryState(StrEnum):
    PENDING = "PENDING"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"


CATEGORY_TYPES: dict[GoalCategory, frozenset[GoalType]] = {
    GoalCategory.SALES: frozenset(
        {
            GoalType.REVENUE,
            GoalType.DEALS_CREATED,
            GoalType.CALLS_LOGGED,
            GoalType.MEETINGS_BOOKED,
        }
    ),
    GoalCategory.SERVICE: frozenset(
        {
            GoalType.CLOSED_TICKETS,
            GoalType.AVG_TICKET_RESPONSE_TIME,
            GoalType.AVG_TICKET_RESOLUTION_TIME,
        }
    ),
}

AVERAGE_TYPES = frozenset({GoalType.AVG_TICKET_RESPONSE_TIME, GoalType.AVG_TICKET_RESOLUTION_TIME})


def unit_of(goal_type: GoalType) -> Unit:
    if goal_type is GoalType.REVENUE:
        return Unit.CURRENCY
    if goal_type in AVERAGE_TYPES:
        return Unit.SECONDS
    return Unit.COUNT


def higher_is_better(goal_type: GoalType) -> bool:
    return goal_type not in AVERAGE_TYPES


def pipeline_object_type(goal_type: GoalType) -> ObjectType | None:
    """The object whose pipelines a goal of this type selects; None when it takes no pipeline."""
    if goal_type in (GoalType.REVENUE, GoalType.DEALS_CREATED):
        return ObjectType.DEAL
    if goal_type in (GoalType.CALLS_LOGGED, GoalType.MEETINGS_BOOKED):
        return None
    return ObjectType.TICKET


def forecastable(milestone_period: MilestonePeriod, pipeline_count: int) -> bool:
    """Whether a client may forecast the goal: not by year, and over one pipeline at most."""
    return milestone_period is not MilestonePeriod.YEARLY and pipeline_count <= 1
