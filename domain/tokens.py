"""API tokens: opaque random strings, stored only as a SHA-256 hash."""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from domain.data_version import account_write
from domain.models import Account, ApiToken, User
from domain.sql import Params, attach, columns_as, connection, instance_as, is_postgres, rows_of

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


async def _live_token(token_hash: str) -> ApiToken | None:
    """The unrevoked token of this hash with its user and the user's account, in one statement
    written out rather than built: every request runs it first."""
    params = Params(is_postgres(connection()))
    sql = (
        f"SELECT {columns_as(ApiToken, 't')}, {columns_as(User, 'u')}, {columns_as(Account, 'a')} "
        f'FROM "{ApiToken._meta.db_table}" t '
        f'JOIN "{User._meta.db_table}" u ON u."id" = t."user_id" '
        f'JOIN "{Account._meta.db_table}" a ON a."id" = u."account_id" '
        f'WHERE t."token_hash" = {params(token_hash)} AND t."revoked_at" IS NULL'
    )
    rows = await rows_of(sql, params)
    if not rows:
        return None
    token, user = instance_as(ApiToken, rows[0], "t"), instance_as(User, rows[0], "u")
    attach(user, "account", instance_as(Account, rows[0], "a"))
    attach(token, "user", user)
    return token


async def authenticate(token: str) -> User | None:
    """The active user a live token belongs to, or None."""
    if not token or len(token) > 200:
        return None
    row = await _live_token(hash_token(token))
    if row is None or not row.user.active:
        return None
    now = datetime.now(UTC)
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_PRECISION:
        await ApiToken.filter(id=row.id).update(last_used_at=now)
    return row.user
