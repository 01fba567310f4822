"""Throughput of the read path: ``goals serve`` against a bare endpoint over the same tables.

    python -m bench.read

Rebuilds a PostgreSQL database of its own (``--database-url``) with set-based SQL: one account
of 200 users in 40 teams of five, 1,000 monthly goals (half this year, half last year) of three
contributors each (two users and a team) with 12 milestones, 90 days of daily snapshots, 20,000
tickets and 5,000 deals; refreshes it with the product's own refresh; then starts one
``goals serve`` process and one bare Starlette + asyncpg endpoint (``bench/bare.py``), checks that
both answer ``ManageGoals(first: 50)``, ``GoalDetails`` and ``Viewer`` with the same ``data``
byte for byte, and drives each with wrk (concurrency 8) for ``--seconds`` after a warm-up. The
API runs twice: with the response cache off (cold) and on (warm, ``GOALS_RESPONSE_CACHE``).
Prints req/s, p50 and p99 per operation and the ratio to the bare endpoint, then the API's RSS
before and after at least ``--rss-requests`` more requests.
"""

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

from bench.export import _free_port
from bench.refresh import _dsn, _recreate_database, _refresh_in_fresh_process
from domain.global_ids import encode_global_id
from tests.helpers import contract_operation

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/goals_bench_read"
TOKEN = "gls_bench-read-token"
CONCURRENCY = 8
OPERATIONS = ("ManageGoals", "GoalDetails", "Viewer")
DETAILS_GOAL = 2  # a goal of this year, so its milestones are in every state

GENERATE = """
INSERT INTO account (id, name, timezone, fiscal_year_start_month, currency, created_at)
VALUES (1, 'Bench', 'UTC', 1, 'USD', now());

INSERT INTO app_user (id, account_id, external_id, email, name, seat, goal_permission, is_admin,
                      active, created_at)
SELECT g, 1, 'u' || g, 'u' || g || '@bench.test', 'User ' || g, 'PAID', 'ALL', g = 1, true, now()
FROM generate_series(1, 200) g;

INSERT INTO api_token (account_id, user_id, name, token_hash, created_at)
VALUES (1, 1, 'bench', '{token_hash}', now());

INSERT INTO team (id, account_id, external_id, name, created_at)
SELECT g, 1, 't' || g, 'Team ' || g, now() FROM generate_series(1, 40) g;

INSERT INTO team_membership (account_id, team_id, user_id)
SELECT 1, (u - 1) / 5 + 1, u FROM generate_series(1, 200) u;

INSERT INTO pipeline (id, account_id, external_id, object_type, name) VALUES
  (1, 1, 'p1', 'TICKET', 'Support'), (2, 1, 'p2', 'TICKET', 'Escalations'),
  (3, 1, 'p3', 'TICKET', 'Billing'), (4, 1, 'p4', 'DEAL', 'New business'),
  (5, 1, 'p5', 'DEAL', 'Renewals');

-- Even goals run this year, odd goals ran last year; newest first is by created_at.
INSERT INTO goal (id, account_id, name, category, type, start_date, end_date, milestone_period,
                  align_to_fiscal_year, notify, created_by_id, created_at, updated_at, target)
SELECT g, 1, 'Goal ' || g,
       CASE WHEN g % 5 < 3 THEN 'SERVICE' ELSE 'SALES' END,
       (ARRAY['CLOSED_TICKETS', 'AVG_TICKET_RESPONSE_TIME', 'AVG_TICKET_RESOLUTION_TIME',
              'REVENUE', 'DEALS_CREATED'])[g % 5 + 1],
       make_date({year} - g % 2, 1, 1), make_date({year} - g % 2, 12, 31), 'MONTHLY', false,
       '[]', 1 + g % 200, now() - g * interval '1 minute', now(), 0
FROM generate_series(1, 1000) g;

-- Ticket goals take pipeline 1 (and 2 for every third goal); deal goals 4 (and 5).
INSERT INTO goal_pipeline (goal_id, pipeline_id)
SELECT g.id, p FROM goal g,
  LATERAL (SELECT CASE WHEN g.category = 'SERVICE' THEN 1 ELSE 4 END AS p
           UNION ALL
           SELECT CASE WHEN g.category = 'SERVICE' THEN 2 ELSE 5 END WHERE g.id % 3 = 0) x
ORDER BY g.id, p;

INSERT INTO contributor_goal (account_id, goal_id, user_id, team_id, created_at, target, final)
SELECT 1, g, CASE WHEN k < 2 THEN (g * 2 + k) % 200 + 1 END,
       CASE WHEN k = 2 THEN g % 40 + 1 END, now(), 0, false
FROM generate_series(1, 1000) g, generate_series(0, 2) k
ORDER BY g, k;

INSERT INTO milestone (contributor_goal_id, "index", start_date, end_date, target, final)
SELECT cg.id, i, (g.start_date + make_interval(months => i))::date,
       (g.start_date + make_interval(months => i + 1) - interval '1 day')::date,
       (10 + (cg.id + i) % 50) * CASE WHEN g.type = 'REVENUE' THEN 1000 ELSE 1 END, false
FROM contributor_goal cg JOIN goal g ON g.id = cg.goal_id, generate_series(0, 11) i
ORDER BY cg.id, i;

INSERT INTO milestone_pipeline (milestone_id, pipeline_id)
SELECT m.id, gp.pipeline_id FROM milestone m
JOIN contributor_goal cg ON cg.id = m.contributor_goal_id
JOIN goal_pipeline gp ON gp.goal_id = cg.goal_id
ORDER BY m.id, gp.id;

INSERT INTO progress_snapshot (contributor_goal_id, date, value, percent)
SELECT cg.id, current_date - d, (cg.id + d) % 40, ((cg.id + d) % 40) * 2.5
FROM contributor_goal cg, generate_series(1, 89) d;

SELECT setseed(0.42);

INSERT INTO ticket (account_id, external_id, pipeline_id, owner_id, created_at,
                    first_responded_at, closed_at)
SELECT 1, 't' || g, 1 + (random() * 2.999)::int % 3, 1 + (random() * 199)::int, created,
       CASE WHEN random() < 0.7 THEN created + random() * interval '1 day' END,
       CASE WHEN random() < 0.8 THEN created + random() * interval '10 days' END
FROM (SELECT g, make_date({year} - 1, 1, 1) + random() * (now() - make_date({year} - 1, 1, 1))
             AS created
      FROM generate_series(1, 20000) g) s;

INSERT INTO deal (account_id, external_id, pipeline_id, owner_id, amount, created_at,
                  closed_won_at)
SELECT 1, 'd' || g, 4 + (random() < 0.5)::int, 1 + (random() * 199)::int,
       round((random() * 10000)::numeric, 2), created,
       CASE WHEN random() < 0.3 THEN created + random() * interval '30 days' END
FROM (SELECT g, make_date({year} - 1, 1, 1) + random() * (now() - make_date({year} - 1, 1, 1))
             AS created
      FROM generate_series(1, 5000) g) s;
"""


async def _build(url: str) -> None:
    await _recreate_database(url)
    conn = await asyncpg.connect(_dsn(url))
    try:
        token_hash = hashlib.sha256(TOKEN.encode()).hexdigest()
        year = datetime.now(UTC).year
        await conn.execute(GENERATE.format(token_hash=token_hash, year=year))
        for table in ("app_user", "team", "goal", "contributor_goal", "milestone", "pipeline"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def request_bodies() -> dict[str, dict[str, Any]]:
    variables: dict[str, dict[str, Any]] = {
        "ManageGoals": {"first": 50},
        "GoalDetails": {"id": encode_global_id("Goal", DETAILS_GOAL)},
        "Viewer": {},
    }
    return {
        name: {
            "query": contract_operation(name),
            "operationName": name,
            "variables": variables[name],
        }
        for name in OPERATIONS
    }


HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = [==[{body}]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {{"requests": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f, "errors": %d}}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout + e.status))
end
"""


@dataclass
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def _pinned(command: list[str], cpu: int | None) -> list[str]:
    if cpu is None or shutil.which("taskset") is None:
        return command
    return ["taskset", "-c", str(cpu), *command]


def wrk(port: int, body: dict[str, Any], seconds: float, cpu: int | None) -> Load:
    """wrk's numbers for one request body at CONCURRENCY connections."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT.format(body=json.dumps(body), token=TOKEN))
    try:
        command = ["wrk", "-t1", f"-c{CONCURRENCY}", f"-d{max(1, round(seconds))}s"]
        command += ["--latency", "--timeout", "120s"]
        command += ["-s", script.name, f"http://127.0.0.1:{port}/graphql"]
        output = subprocess.run(
            _pinned(command, cpu), check=True, capture_output=True, text=True
        ).stdout
    finally:
        os.unlink(script.name)
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    return Load(**json.loads(line.removeprefix("RESULT ")))


@contextmanager
def running(command: list[str], env: dict[str, str], port: int, cpu: int | None) -> Iterator[int]:
    """Starts ``command`` listening on ``port``; yields its pid once it answers."""
    server = subprocess.Popen(
        _pinned(command, cpu), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.post(f"http://127.0.0.1:{port}/graphql", json={}, timeout=1)
                break
            except httpx.HTTPError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{' '.join(command)} did not start") from None
                time.sleep(0.2)
        yield server.pid
    finally:
        server.terminate()
        server.wait(10)


def api_command(port: int) -> list[str]:
    return [sys.executable, "-m", "api.cli", "serve", "--port", str(port)]


def bare_command(port: int, url: str) -> list[str]:
    return [sys.executable, "-m", "bench.bare", "--port", str(port), "--database-url", url]


def api_env(url: str, response_cache: bool) -> dict[str, str]:
    env = {**os.environ, "GOALS_DATABASE_URL": url, "GOALS_LOG_LEVEL": "WARNING"}
    env["GOALS_RESPONSE_CACHE"] = "true" if response_cache else "false"
    env.pop("GOALS_REDIS_URL", None)
    return env


def answers(port: int) -> dict[str, str]:
    """Each operation's ``data``, serialised as received."""
    found = {}
    for name, body in request_bodies().items():
        response = httpx.post(
            f"http://127.0.0.1:{port}/graphql", json=body, headers=HEADERS, timeout=60
        )
        response.raise_for_status()
        answer = response.json()
        if answer.get("errors"):
            raise RuntimeError(f"{name}: {answer['errors']}")
        found[name] = json.dumps(answer["data"])
    return found


def measure(port: int, seconds: float, warmup: float, cpu: int | None) -> dict[str, Load]:
    loads = {}
    for name, body in request_bodies().items():
        wrk(port, body, warmup, cpu)
        loads[name] = wrk(port, body, seconds, cpu)
    return loads


def check_same(api: dict[str, str], bare: dict[str, str]) -> None:
    for name in OPERATIONS:
        if api[name] != bare[name]:
            Path(f"/tmp/bench-read-{name}-api.json").write_text(api[name])
            Path(f"/tmp/bench-read-{name}-bare.json").write_text(bare[name])
            raise SystemExit(
                f"{name}: the API and the bare endpoint disagree (see /tmp/bench-read-{name}-*)"
            )
        print(f"{name}: same data ({len(api[name]):,} bytes)", file=sys.stderr)


def rss_mb(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--seconds", type=float, default=10, help="timed load per case")
    parser.add_argument("--warmup", type=float, default=2, help="untimed load before each case")
    parser.add_argument(
        "--rss-requests",
        type=int,
        default=10_000,
        help="at least this many ManageGoals requests for the RSS check (0: none)",
    )
    parser.add_argument("--no-build", action="store_true", help="reuse the database as it is")
    parser.add_argument(
        "--server-cpu", type=int, default=0, help="core for the servers (-1: not pinned)"
    )
    parser.add_argument("--wrk-cpu", type=int, default=1, help="core for wrk (-1: not pinned)")
    args = parser.parse_args()
    server_cpu = None if args.server_cpu < 0 else args.server_cpu
    wrk_cpu = None if args.wrk_cpu < 0 else args.wrk_cpu
    url = args.database_url

    if not args.no_build:
        print("building the account ...", file=sys.stderr)
        asyncio.run(_build(url))
        refresh = _refresh_in_fresh_process(url, datetime.now(UTC).isoformat())
        print(f"refreshed {refresh['computed']:,} milestones", file=sys.stderr)

    port = _free_port()
    with running(bare_command(port, url), dict(os.environ), port, server_cpu):
        bare_answers = answers(port)
        bare = measure(port, args.seconds, args.warmup, wrk_cpu)

    results: dict[str, dict[str, Load]] = {}
    rss: tuple[float, float, int] | None = None
    for mode, cache in (("cold", False), ("warm", True)):
        port = _free_port()
        with running(api_command(port), api_env(url, cache), port, server_cpu) as pid:
            check_same(answers(port), bare_answers)
            results[mode] = measure(port, args.seconds, args.warmup, wrk_cpu)
            if mode == "cold" and args.rss_requests:
                # Runs long enough for that many requests at the rate just measured, until
                # at least that many were sent.
                rate = results[mode]["ManageGoals"].per_second
                before = rss_mb(pid)
                body = request_bodies()["ManageGoals"]
                sent = 0
                while sent < args.rss_requests:
                    seconds = (args.rss_requests - sent) / rate + 2
                    sent += wrk(port, body, seconds, wrk_cpu).requests
                rss = (before, rss_mb(pid), sent)

    print(f"one API process, wrk at concurrency {CONCURRENCY}, {args.seconds:g} s per case")
    header = (
        f"{'operation':<12} {'server':<6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'p99/p50':>7} {'vs bare':>8} {'errors':>6}"
    )
    print(header)
    print("-" * len(header))
    for name in OPERATIONS:
        rows = [("bare", bare[name]), *((mode, results[mode][name]) for mode in results)]
        for server, load in rows:
            print(
                f"{name:<12} {server:<6} {load.per_second:>8.1f} {load.p50_ms:>8.1f} "
                f"{load.p99_ms:>8.1f} {load.p99_ms / load.p50_ms:>7.2f} "
                f"{load.per_second / bare[name].per_second:>7.1%} {load.errors:>6}"
            )
    if rss is not None:
        before, after, sent = rss
        print(
            f"\nAPI RSS over {sent:,} more ManageGoals requests (cold): "
            f"{before:.0f} MB before, {after:.0f} MB after ({after - before:+.0f} MB)"
        )


if __name__ == "__main__":
    main()
