"""The operator tasks that have no GraphQL mutation: migrating, creating an account, issuing a
token, the demo data, the schema, a refresh now."""

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from domain.models import Account, User
from domain.sql import column

T = TypeVar("T")


class CommandError(Exception):
    """A problem the operator can fix: printed without a traceback, exit code 2."""


async def new_token(user: User, name: str) -> str:
    from domain.tokens import issue_token

    token, _ = await issue_token(user, name)
    return token


def schema_sdl() -> str:
    """The schema as SDL, as `strawberry export-schema api.schema:schema` prints it."""
    from strawberry.printer import print_schema

    from api.schema import schema

    return print_schema(schema) + "\n"


def with_database(work: Callable[[], Awaitable[T]]) -> T:
    """Runs ``work`` with Tortoise initialised on the configured database."""
    from domain.db import close_db, init_db
    from domain.settings import get_settings
    from workers.dispatch import queued_deliveries

    async def run() -> T:
        await init_db()
        try:
            # Notifications a command writes (refresh outcomes, demo goals) go out at once.
            async with queued_deliveries(get_settings().redis_url):
                return await work()
        finally:
            await close_db()

    return asyncio.run(run())


def command_migrate(_: argparse.Namespace) -> None:
    from domain.db import migrate_db
    from domain.settings import get_settings

    asyncio.run(migrate_db())
    print(f"Migrations applied to {get_settings().database_url}.")


def command_bootstrap(args: argparse.Namespace) -> None:
    from domain.account import create_account_with_admin

    async def work() -> str:
        admin = await create_account_with_admin(
            args.account, args.admin_email, timezone=args.timezone
        )
        print(f"Account {args.account!r} (id {admin.account_id}) with admin {admin.email}.")
        return await new_token(admin, args.token_name)

    print(with_database(work))


def command_token(args: argparse.Namespace) -> None:
    from domain.account import find_active_user

    async def work() -> str:
        user = await find_active_user(args.email, args.account)
        print(f"New token {args.name!r} for {user.email} in account {user.account.name!r}.")
        return await new_token(user, args.name)

    print(with_database(work))


def command_seed_demo(_: argparse.Namespace) -> None:
    from api.demo import seed_demo

    async def work() -> str:
        admin, created = await seed_demo()
        print("Demo data: created." if created else "Demo data: already there.")
        print(f"Demo admin: {admin.email}")
        return await new_token(admin, "seed-demo")

    print(with_database(work))


def command_export_schema(_: argparse.Namespace) -> None:
    sys.stdout.write(schema_sdl())


def command_refresh(args: argparse.Namespace) -> None:
    from domain.progress import RefreshTimeout, refresh_account

    async def work() -> int:
        ids = await column(Account.all().order_by("id"), "id")
        if args.account is not None:
            if args.account not in ids:
                raise CommandError(f"No account with id {args.account}.")
            ids = [args.account]
        timed_out = 0
        for account_id in ids:
            started = time.perf_counter()
            try:
                result = await refresh_account(account_id)
            except RefreshTimeout as error:
                print(
                    f"Account {account_id}: cancelled after {error.seconds:.1f} s, a statement "
                    f"ran past the limit of {error.limit_seconds:g} s "
                    "(GOALS_REFRESH_STATEMENT_TIMEOUT_SECONDS); nothing was written.",
                    file=sys.stderr,
                )
                timed_out += 1
                continue
            print(
                f"Account {account_id}: {result.milestones_computed} milestones computed, "
                f"{result.milestones_changed} changed, {result.milestones_finalized} became "
                f"final, in {time.perf_counter() - started:.2f} s."
            )
        return timed_out

    if with_database(work):
        sys.exit(1)
