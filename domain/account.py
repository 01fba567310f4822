"""Account settings and API tokens: who may change them and what values they take."""

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from tortoise.transactions import in_transaction

from domain.data_version import account_write
from domain.enums import GoalPermission, Seat
from domain.errors import ErrorCode, Errors, ValidationFailed
from domain.models import Account, ApiToken, User
from domain.permissions import AdminOnly, may, require_admin
from domain.tokens import issue_token
from domain.webhook_addresses import private_host_problem

MAX_ACCOUNT_NAME = 200
MAX_TOKEN_NAME = 200
MAX_WEBHOOK_URL = 2000
WEBHOOK_SECRET_LENGTH = (16, 500)
# Tokens are listed back to their owner; a cap keeps that list and the hash table small.
MAX_LIVE_TOKENS_PER_USER = 100

# Current ISO 4217 currencies (funds, precious metals and testing codes left out).
CURRENCIES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR
    FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD
    JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT
    MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG
    QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB
    TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF
    XPF YER ZAR ZMW ZWG
    """.split()  # noqa: SIM905 - a table reads better than 160 quoted strings
)
# Names in the tz database that are not places.
NOT_TIMEZONES = frozenset({"localtime", "Factory", "posixrules"})


class _Keep(Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP


@dataclass(frozen=True, slots=True)
class SettingsChange:
    """Fields left at KEEP stay as they are; None clears the optional ones."""

    name: str | None | _Keep = KEEP
    timezone: str | None | _Keep = KEEP
    fiscal_year_start_month: int | None | _Keep = KEEP
    currency: str | None | _Keep = KEEP
    webhook_url: str | None | _Keep = KEEP
    webhook_secret: str | None | _Keep = KEEP
    refresh_hour: int | None | _Keep = KEEP


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - NOT_TIMEZONES


def is_timezone(name: str) -> bool:
    return name in _timezones()


def webhook_url_problem(url: str, *, allow_private: bool) -> str | None:
    """Why ``url`` cannot receive webhooks, or None.

    Without ``allow_private`` only https to a host that may be public is accepted, by the
    rule delivery applies again to the addresses the name resolves to.
    """
    if len(url) > MAX_WEBHOOK_URL:
        return f"The URL is longer than {MAX_WEBHOOK_URL} characters."
    if any(c.isspace() for c in url):
        return "The URL contains spaces."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return "The URL is malformed."
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        return "The webhook URL must be an absolute https:// URL."
    host = parts.hostname
    if not host:
        return "The URL names no host."
    if parts.username is not None or parts.password is not None:
        return "Put no credentials in the URL; the signature authenticates each call."
    if allow_private:
        return None
    return private_host_problem(host)


def _validate_settings(  # noqa: C901 - one flat, independent check per setting
    change: SettingsChange, account: Account, *, allow_private: bool
) -> tuple[dict[str, Any], Errors]:
    errors = Errors()
    values: dict[str, Any] = {}

    def cleared(field: str, value: object, spelled: str) -> bool:
        if value is None:
            errors.add(("input", field), ErrorCode.REQUIRED, f"{spelled} cannot be cleared.")
        return value is None

    if not cleared("name", change.name, "name") and isinstance(change.name, str):
        name = change.name.strip()
        if not name or len(name) > MAX_ACCOUNT_NAME:
            errors.add(
                ("input", "name"),
                ErrorCode.INVALID,
                f"The name must have 1 to {MAX_ACCOUNT_NAME} characters.",
            )
        values["name"] = name
    if not cleared("timezone", change.timezone, "timezone") and isinstance(change.timezone, str):
        if not is_timezone(change.timezone):
            errors.add(
                ("input", "timezone"),
                ErrorCode.INVALID,
                f"{change.timezone!r} is not an IANA time zone such as Europe/Warsaw.",
            )
        values["timezone"] = change.timezone
    month = change.fiscal_year_start_month
    if not cleared("fiscal_year_start_month", month, "fiscalYearStartMonth") and isinstance(
        month, int
    ):
        if not 1 <= month <= 12:
            errors.add(
                ("input", "fiscal_year_start_month"),
                ErrorCode.INVALID,
                "The fiscal year starts in a month from 1 to 12.",
            )
        values["fiscal_year_start_month"] = month
    if not cleared("currency", change.currency, "currency") and isinstance(change.currency, str):
        currency = change.currency.strip().upper()
        if currency not in CURRENCIES:
            errors.add(
                ("input", "currency"),
                ErrorCode.INVALID,
                f"{change.currency!r} is not a current ISO 4217 currency code such as EUR.",
            )
        values["currency"] = currency
    if not isinstance(change.webhook_url, _Keep):
        url = (change.webhook_url or "").strip() or None
        problem = url and webhook_url_problem(url, allow_private=allow_private)
        if problem:
            errors.add(("input", "webhook_url"), ErrorCode.INVALID, problem)
        values["webhook_url"] = url
    if not isinstance(change.webhook_secret, _Keep):
        secret = change.webhook_secret or None
        low, high = WEBHOOK_SECRET_LENGTH
        if secret is not None and not low <= len(secret) <= high:
            errors.add(
                ("input", "webhook_secret"),
                ErrorCode.INVALID,
                f"The secret must have {low} to {high} characters.",
            )
        values["webhook_secret"] = secret
    if not isinstance(change.refresh_hour, _Keep):
        hour = change.refresh_hour
        if hour is not None and not 0 <= hour <= 23:
            errors.add(
                ("input", "refresh_hour"), ErrorCode.INVALID, "The refresh hour is from 0 to 23."
            )
        values["refresh_hour"] = hour
    url = values.get("webhook_url", account.webhook_url)
    secret = values.get("webhook_secret", account.webhook_secret)
    if url and not secret:
        errors.add(
            ("input", "webhook_secret"),
            ErrorCode.REQUIRED,
            "A webhook needs a secret to sign its calls.",
        )
    return values, errors


async def update_account_settings(
    actor: User, change: SettingsChange, *, allow_private_webhook: bool
) -> Account:
    """The updated account; raises ValidationFailed when nothing changed."""
    require_admin(actor, AdminOnly.CHANGE_SETTINGS)
    async with account_write(actor.account_id):
        account = await Account.select_for_update().get(id=actor.account_id)
        values, errors = _validate_settings(change, account, allow_private=allow_private_webhook)
        errors.raise_if_any()
        if values:
            account.update_from_dict(values)
            await account.save(update_fields=list(values))
    return account


# ---------------------------------------------------------------- tokens


async def create_api_token(
    actor: User, *, name: str, user_id: int | None = None
) -> tuple[str, ApiToken]:
    """A new token for the actor, or (admins only) for ``user_id`` of the same account.

    Returns the plaintext token, which is never stored, and its row; raises ValidationFailed.
    ``user_id`` 0 stands for an id that names nothing.
    """
    errors = Errors()
    owner: User | None = actor
    if user_id is not None and user_id != actor.id:
        owner = None
        if may(actor, AdminOnly.MANAGE_OTHERS_TOKENS):
            owner = await User.filter(id=user_id, account_id=actor.account_id).first()
        if owner is None:
            errors.add(("input", "user_id"), ErrorCode.NOT_FOUND, "No such user.")
        elif not owner.active:
            errors.add(
                ("input", "user_id"),
                ErrorCode.INVALID,
                "The user is inactive; their tokens would not work.",
            )
    trimmed = name.strip()
    if not trimmed or len(trimmed) > MAX_TOKEN_NAME:
        errors.add(
            ("input", "name"),
            ErrorCode.INVALID,
            f"The token name must have 1 to {MAX_TOKEN_NAME} characters.",
        )
    if owner is not None and not errors:
        live = await ApiToken.filter(user_id=owner.id, revoked_at=None).count()
        if live >= MAX_LIVE_TOKENS_PER_USER:
            errors.add(
                ("input",),
                ErrorCode.TOO_MANY,
                f"A user has at most {MAX_LIVE_TOKENS_PER_USER} live tokens; revoke one first.",
            )
    errors.raise_if_any()
    assert owner is not None  # no owner is an error
    return await issue_token(owner, trimmed)


async def revoke_api_token(actor: User, token_id: int | None) -> None:
    """Revoke one of the actor's tokens, or as an admin any token of the account.

    Revoking a revoked token again succeeds and keeps the first revocation time.
    """
    query = ApiToken.filter(id=token_id or 0, account_id=actor.account_id)
    if not may(actor, AdminOnly.MANAGE_OTHERS_TOKENS):
        query = query.filter(user_id=actor.id)
    if not await query.exists():
        raise ValidationFailed.one(("id",), ErrorCode.NOT_FOUND, "No such API token.")
    async with account_write(actor.account_id):
        await query.filter(revoked_at=None).update(revoked_at=datetime.now(UTC))


async def live_api_tokens(actor: User, user_id: int | None = None) -> list[ApiToken]:
    """The live tokens of the actor, or (admins only) of another user; newest first."""
    owner_id = actor.id if user_id is None else user_id
    if owner_id != actor.id and not may(actor, AdminOnly.MANAGE_OTHERS_TOKENS):
        return []
    return (
        await ApiToken.filter(account_id=actor.account_id, user_id=owner_id, revoked_at=None)
        .order_by("-created_at", "-id")
        .limit(MAX_LIVE_TOKENS_PER_USER)
    )


class AccountSetupError(ValueError):
    """An operator's mistake in setting up an account or finding a user: the message says what."""


def _checked_email(email: str) -> str:
    email = email.strip()
    local, at, domain = email.partition("@")
    if not (local and at and "." in domain) or len(email) > 320 or " " in email:
        raise AccountSetupError(f"{email!r} is not an email address.")
    return email.lower()


async def create_account_with_admin(
    account_name: str,
    admin_email: str,
    *,
    timezone: str = "UTC",
    admin_name: str | None = None,
    admin_external_id: str | None = None,
) -> User:
    """A new account and its first admin (PAID seat, reach ALL), who can then sync the rest."""
    account_name = account_name.strip()
    if not account_name or len(account_name) > MAX_ACCOUNT_NAME:
        raise AccountSetupError(f"The account name must have 1 to {MAX_ACCOUNT_NAME} characters.")
    if not is_timezone(timezone):
        raise AccountSetupError(
            f"{timezone!r} is not an IANA time zone; use a name such as Europe/Berlin or UTC."
        )
    admin_email = _checked_email(admin_email)
    async with in_transaction():
        account = await Account.create(name=account_name, timezone=timezone)
        admin = await User.create(
            account=account,
            external_id=admin_external_id,
            email=admin_email,
            name=admin_name or admin_email.split("@")[0],
            seat=Seat.PAID,
            goal_permission=GoalPermission.ALL,
            is_admin=True,
        )
    admin.account = account
    return admin


async def find_active_user(email: str, account: str | None = None) -> User:
    """The one active user with this email, in the account named or numbered ``account`` when
    given (an email may belong to users of several accounts)."""
    users = await User.filter(email__iexact=email.strip()).select_related("account")
    if account is not None:
        users = [u for u in users if account in (u.account.name, str(u.account_id))]
    where = f" in account {account!r}" if account is not None else ""
    if not users:
        raise AccountSetupError(f"No user with email {email!r}{where}.")
    if len(users) > 1:
        accounts = ", ".join(f"{u.account.name!r} (id {u.account_id})" for u in users)
        raise AccountSetupError(
            f"{email!r} is a user in several accounts: {accounts}; choose one with --account."
        )
    user = users[0]
    if not user.active:
        raise AccountSetupError(f"{email!r} is inactive; an inactive user's tokens do not work.")
    return user
