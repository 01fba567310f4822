"""API tokens: opaque random strings, stored only as a SHA-256 hash."""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from domain.data_version import account_write
from domain.models import ApiToken, User

TOKEN_PREFIX = "gls_"
# Writing last_used_at on every request would turn reads into writes; a minute is precise enough.
LAST_USED_PRECISION = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(user: User, name: str) -> tuple[str, ApiToken]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with account_write(user.account_id):
        row = await ApiToken.create(
            account_id=user.account_id, user=user, name=name, token_hash=hash_token(token)
        )
    return token, row


async def authenticate(token: str) -> User | None:
    """The active user a live token belongs to, or None."""
    if not token or len(token) > 200:
        return None
    row = (
        await ApiToken.filter(token_hash=hash_token(token), revoked_at=None)
        .select_related("user", "user__account")
        .first()
    )
    if row is None or not row.user.active:
        return None
    now = datetime.now(UTC)
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_PRECISION:
        await ApiToken.filter(id=row.id).update(last_used_at=now)
    return row.user
