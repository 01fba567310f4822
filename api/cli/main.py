"""The `goals` command's arguments."""

import argparse
from collections.abc import Sequence

from api.cli.operator import (
    CommandError,
    command_bootstrap,
    command_export_schema,
    command_migrate,
    command_refresh,
    command_seed_demo,
    command_token,
)
from api.cli.processes import DEFAULT_HOST, DEFAULT_PORT, command_dev, command_serve, command_worker
from domain.account import AccountSetupError


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
