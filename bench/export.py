"""Memory of the CSV export against its size: the API's peak RSS while one client downloads
`/exports/goals.csv`, for exports of 10,000 and 100,000 rows.

    python -m bench.export --rows 10000 100000

For each size: rebuilds a PostgreSQL database of its own (``--database-url``) with one account
of goals of 50 user contributors each (12 monthly milestones, refreshed figures and pace), so
that the default (contributor) level has the given number of rows; starts ``goals serve`` on it,
downloads the CSV with a streaming client, and samples the server's RSS every 10 ms.
"""

import argparse
import asyncio
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time

import asyncpg
import httpx
import psutil

from bench.refresh import _dsn, _recreate_database

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/goals_insight_export"
CONTRIBUTORS = 50
TOKEN = "gls_bench-export-token"

GENERATE = """
INSERT INTO account (id, name, timezone, fiscal_year_start_month, currency, created_at)
VALUES (1, 'Export', 'UTC', 1, 'USD', now());

INSERT INTO app_user (id, account_id, external_id, email, name, seat, goal_permission, is_admin,
                      active, created_at)
SELECT g, 1, 'u' || g, 'u' || g || '@export.test', 'User "' || g || '", the ' || g || 'th',
       'PAID', 'ALL', g = 1, true, now()
FROM generate_series(1, {contributors}) g;

INSERT INTO api_token (account_id, user_id, name, token_hash, created_at)
VALUES (1, 1, 'bench', '{token_hash}', now());

INSERT INTO goal (id, account_id, name, category, type, start_date, end_date, milestone_period,
                  align_to_fiscal_year, notify, created_at, updated_at, value, target, percent,
                  refreshed_at, pace_expected, pace_projected, pace_ratio, pace_status)
SELECT g, 1, 'Goal ' || g || ', with a comma', 'SALES', 'REVENUE', '2026-01-01', '2026-12-31',
       'MONTHLY', false, '[]', now(), now(), 1234.5 * {contributors}, 2000 * {contributors},
       61.73, now(), 1500 * {contributors}, 1600 * {contributors}, 0.823, 'BEHIND'
FROM generate_series(1, {goals}) g;

INSERT INTO contributor_goal (account_id, goal_id, user_id, created_at, value, target, percent,
                              final, refreshed_at, pace_expected, pace_projected, pace_ratio,
                              pace_status)
SELECT 1, g, u, now(), 1234.5, 2000, 61.73, false, now(), 1500, 1600, 0.823, 'BEHIND'
FROM generate_series(1, {goals}) g, generate_series(1, {contributors}) u;

INSERT INTO milestone (contributor_goal_id, "index", start_date, end_date, target, value, final)
SELECT cg.id, i, (date '2026-01-01' + make_interval(months => i))::date,
       (date '2026-01-01' + make_interval(months => i + 1) - interval '1 day')::date,
       2000 / 12.0, 100, false
FROM contributor_goal cg, generate_series(0, 11) i;
"""


async def _build(url: str, rows: int) -> None:
    await _recreate_database(url)
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute(
            GENERATE.format(
                contributors=CONTRIBUTORS,
                goals=rows // CONTRIBUTORS,
                token_hash=hashlib.sha256(TOKEN.encode()).hexdigest(),
            )
        )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _download(url: str, port: int) -> dict[str, float]:
    env = {**os.environ, "GOALS_DATABASE_URL": url, "GOALS_LOG_LEVEL": "WARNING"}
    env.pop("GOALS_REDIS_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        process = psutil.Process(server.pid)
        baseline = process.memory_info().rss
        peak = baseline
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, process.memory_info().rss)
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()
        lines = 0
        size = 0
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.stream(
            "GET", f"{base}/exports/goals.csv", headers=headers, timeout=600
        ) as response:
            response.raise_for_status()
            for chunk in response.iter_bytes():
                lines += chunk.count(b"\n")
                size += len(chunk)
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        return {
            "rows": lines - 1,
            "seconds": seconds,
            "mb": size / 2**20,
            "baseline_mb": baseline / 2**20,
            "peak_mb": peak / 2**20,
        }
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args()
    results = []
    for rows in args.rows:
        print(f"building {rows:,} contributor goals ...", file=sys.stderr)
        asyncio.run(_build(args.database_url, rows))
        results.append(_download(args.database_url, _free_port()))
    header = (
        f"{'rows':>8} {'CSV MB':>7} {'seconds':>8} {'RSS before MB':>13} {'peak RSS MB':>11} "
        f"{'growth MB':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{int(r['rows']):>8,} {r['mb']:>7.1f} {r['seconds']:>8.2f} {r['baseline_mb']:>13.0f} "
            f"{r['peak_mb']:>11.0f} {r['peak_mb'] - r['baseline_mb']:>9.0f}"
        )


if __name__ == "__main__":
    main()
