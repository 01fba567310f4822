"""The words of a notification, rendered from its stored payload alone: the in-app list, the
email and the webhook all say the same thing without querying anything again."""

import html
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain.enums import GoalStatus, NotificationKind, Unit

STATUS_WORDS = {
    GoalStatus.ACHIEVED: "achieved",
    GoalStatus.EXCEEDED: "exceeded",
    GoalStatus.MISSED: "missed",
    GoalStatus.PENDING: "pending",
    GoalStatus.IN_PROGRESS: "in progress",
}


@dataclass(frozen=True, slots=True)
class EmailContent:
    subject: str
    text: str
    html: str


def format_amount(amount: str | None, unit: str, currency: str) -> str:
    """A value or target as a person reads it: money with its currency, seconds as a duration."""
    if amount is None:
        return "no value"
    number = Decimal(amount)
    if unit == Unit.CURRENCY:
        return f"{number:,.2f} {currency}"
    if unit == Unit.SECONDS:
        return _duration(number)
    return f"{number:,f}" if number != number.to_integral_value() else f"{number:,.0f}"


def _duration(seconds: Decimal) -> str:
    total = int(seconds.to_integral_value())
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def _milestone_words(payload: dict[str, Any]) -> str:
    milestone = payload.get("milestone") or {}
    return (
        f"Milestone {milestone.get('index', 0) + 1} "
        f"({milestone.get('start_date')} to {milestone.get('end_date')})"
    )


def _amounts(payload: dict[str, Any]) -> tuple[str, str]:
    goal = payload.get("goal") or {}
    unit, currency = goal.get("unit", Unit.COUNT), payload.get("currency", "")
    return (
        format_amount(payload.get("value"), unit, currency),
        format_amount(payload.get("target"), unit, currency),
    )


def _status_word(payload: dict[str, Any]) -> str:
    status = payload.get("status")
    return STATUS_WORDS.get(GoalStatus(status), str(status)) if status else "ended"


def summary(kind: NotificationKind | str, payload: dict[str, Any]) -> str:
    """One sentence naming the goal, the milestone and the value against the target."""
    goal = payload.get("goal") or {}
    name = f"“{goal.get('name', '')}”"
    team = (payload.get("contributor") or {}).get("name")
    value, target = _amounts(payload)
    kind = NotificationKind(kind)
    if kind is NotificationKind.GOAL_ASSIGNED:
        who = f"Your team {team} was" if team else "You were"
        return (
            f"{who} assigned the goal {name} ({goal.get('start_date')} to "
            f"{goal.get('end_date')}) with a target of {target}."
        )
    if kind is NotificationKind.TARGETS_CHANGED:
        whose = f"The targets of your team {team}" if team else "Your targets"
        return f"{whose} for {name} changed: {target} in total."
    prefix = f"{team}: " if team else ""
    if kind is NotificationKind.GOAL_COMPLETED:
        return (
            f"{prefix}The goal {name} ended {_status_word(payload)}: "
            f"{value} against a target of {target}."
        )
    milestone = _milestone_words(payload)
    return (
        f"{prefix}{milestone} of {name} was {_status_word(payload)}: "
        f"{value} against a target of {target}."
    )


def subject(kind: NotificationKind | str, payload: dict[str, Any]) -> str:
    name = (payload.get("goal") or {}).get("name", "")
    kind = NotificationKind(kind)
    if kind is NotificationKind.GOAL_ASSIGNED:
        return f"New goal: {name}"
    if kind is NotificationKind.TARGETS_CHANGED:
        return f"Targets changed: {name}"
    if kind is NotificationKind.GOAL_COMPLETED:
        return f"Goal {_status_word(payload)}: {name}"
    return f"Milestone {_status_word(payload)}: {name}"


def email_content(
    kind: NotificationKind | str, payload: dict[str, Any], *, recipient_name: str, link: str
) -> EmailContent:
    sentence = summary(kind, payload)
    text = f"Hello {recipient_name},\n\n{sentence}\n\nOpen the goal: {link}\n"
    body = (
        "<!doctype html><html><body>"
        f"<p>Hello {html.escape(recipient_name)},</p>"
        f"<p>{html.escape(sentence)}</p>"
        f'<p><a href="{html.escape(link, quote=True)}">Open the goal</a></p>'
        "</body></html>"
    )
    return EmailContent(subject=subject(kind, payload), text=text, html=body)
