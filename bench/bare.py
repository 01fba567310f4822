"""The same answers as the API for three client operations, from the same tables, with as few
statements and as little code as a hand-written endpoint needs: what the data allows.

    python -m bench.bare --port 8001 --database-url postgres://...

A Starlette app on asyncpg that knows the operations of ``bench.read`` by name (``Viewer``,
``ManageGoals`` with ``first`` and ``GoalDetails`` with ``id``, no other variables): one statement
checks the token, a handful read the answer, and the rules that shape it (status, percent,
ids, decimals) are the product's own functions. It answers ``{"data": ...}`` in the API's
field order, so ``bench.read`` can compare both byte for byte.
"""

import argparse
import base64
import datetime
import hashlib
import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.common.numbers import percent_number, plain_decimal
from domain.enums import GoalType, MilestonePeriod, higher_is_better, unit_of
from domain.global_ids import decode_global_id, encode_global_id
from domain.status import percent_of_target, status_of

HISTORY_DAYS = 90

VIEWER_SQL = """
SELECT u.id, u.account_id, u.external_id, u.email, u.name, u.seat, u.goal_permission, u.is_admin,
       a.name AS account_name, a.timezone, a.fiscal_year_start_month, a.currency,
       ARRAY(SELECT t.id FROM team_membership tm JOIN team t ON t.id = tm.team_id
             WHERE tm.user_id = u.id ORDER BY t.id) AS team_ids,
       ARRAY(SELECT t.name FROM team_membership tm JOIN team t ON t.id = tm.team_id
             WHERE tm.user_id = u.id ORDER BY t.id) AS team_names
FROM api_token k JOIN app_user u ON u.id = k.user_id JOIN account a ON a.id = u.account_id
WHERE k.token_hash = $1 AND k.revoked_at IS NULL AND u.active
"""
GOAL_COLUMNS = """g.id, g.name, g.category, g.type, g.milestone_period, g.start_date, g.end_date,
       g.value, g.target, g.percent, g.refreshed_at, g.created_at"""
COUNT_SQL = "SELECT count(*) FROM goal WHERE account_id = $1"
PAGE_SQL = f"""
SELECT {GOAL_COLUMNS} FROM goal g WHERE g.account_id = $1
ORDER BY g.created_at DESC, g.id DESC LIMIT $2
"""
DETAILS_SQL = f"""
SELECT {GOAL_COLUMNS}, g.align_to_fiscal_year, g.notify::text AS notify, g.updated_at,
       g.created_by_id, u.name AS created_by_name
FROM goal g LEFT JOIN app_user u ON u.id = g.created_by_id
WHERE g.account_id = $1 AND g.id = $2
"""
PIPELINES_SQL = """
SELECT gp.goal_id, p.id, p.name, p.object_type FROM goal_pipeline gp
JOIN pipeline p ON p.id = gp.pipeline_id
WHERE gp.goal_id = ANY($1::int[]) ORDER BY gp.id
"""
CONTRIBUTORS_SQL = """
SELECT cg.id, cg.goal_id, cg.user_id, cg.team_id, cg.value, cg.target, cg.percent,
       cg.refreshed_at, u.name AS user_name, u.email, t.name AS team_name
FROM contributor_goal cg LEFT JOIN app_user u ON u.id = cg.user_id
LEFT JOIN team t ON t.id = cg.team_id
WHERE cg.account_id = $1 AND cg.goal_id = ANY($2::int[]) ORDER BY cg.id
"""
MILESTONES_SQL = """
SELECT m.contributor_goal_id, m."index", m.start_date, m.end_date, m.target, m.value, m.final,
       ARRAY(SELECT mp.pipeline_id FROM milestone_pipeline mp WHERE mp.milestone_id = m.id
             ORDER BY mp.id) AS pipeline_ids
FROM milestone m WHERE m.contributor_goal_id = ANY($1::bigint[])
ORDER BY m.contributor_goal_id, m."index"
"""
HISTORY_SQL = """
SELECT contributor_goal_id, date, value, percent FROM progress_snapshot
WHERE contributor_goal_id = ANY($1::bigint[]) AND date BETWEEN $2 AND $3
ORDER BY contributor_goal_id, date
"""


def gid(type_name: str, pk: int) -> str:
    return encode_global_id(type_name, pk)


def decimal_text(number: Decimal | None) -> str | None:
    plain = plain_decimal(number)
    return None if plain is None else str(plain)


def day(value: datetime.date | datetime.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def progress(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "value": decimal_text(row["value"]),
        "target": decimal_text(row["target"]) or "0",
        "percent": percent_number(row["percent"]),
        "refreshedAt": day(row["refreshed_at"]),
    }


def whole_status(goal: asyncpg.Record, row: asyncpg.Record, today: datetime.date) -> str:
    return status_of(
        start_date=goal["start_date"],
        end_date=goal["end_date"],
        today=today,
        value=row["value"],
        target=row["target"],
        percent=row["percent"],
    ).value


def contributor(row: asyncpg.Record) -> dict[str, Any]:
    if row["user_id"] is not None:
        return {
            "__typename": "User",
            "id": gid("User", row["user_id"]),
            "name": row["user_name"],
            "email": row["email"],
        }
    return {"__typename": "Team", "id": gid("Team", row["team_id"]), "name": row["team_name"]}


def goal_head(goal: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": gid("Goal", goal["id"]),
        "name": goal["name"],
        "category": goal["category"],
        "type": goal["type"],
        "unit": unit_of(GoalType(goal["type"])).value,
        "higherIsBetter": higher_is_better(GoalType(goal["type"])),
        "milestonePeriod": goal["milestone_period"],
        "startDate": day(goal["start_date"]),
        "endDate": day(goal["end_date"]),
    }


def forecastable(goal: asyncpg.Record, pipelines: list[asyncpg.Record]) -> bool:
    return goal["milestone_period"] != MilestonePeriod.YEARLY.value and len(pipelines) <= 1


def cursor(goal: asyncpg.Record) -> str:
    payload = json.dumps(
        ["CREATED_AT", True, goal["created_at"].isoformat(), goal["id"]], separators=(",", ":")
    )
    return base64.urlsafe_b64encode(payload.encode()).decode()


def grouped(rows: list[asyncpg.Record], key: str) -> dict[int, list[asyncpg.Record]]:
    groups: dict[int, list[asyncpg.Record]] = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    return groups


async def manage_goals(
    conn: asyncpg.Connection, viewer: asyncpg.Record, first: int, today: datetime.date
) -> dict[str, Any]:
    account_id = viewer["account_id"]
    total = await conn.fetchval(COUNT_SQL, account_id)
    rows = await conn.fetch(PAGE_SQL, account_id, first + 1)
    page = rows[:first]
    ids = [g["id"] for g in page]
    pipelines = grouped(await conn.fetch(PIPELINES_SQL, ids), "goal_id")
    contributors = grouped(await conn.fetch(CONTRIBUTORS_SQL, account_id, ids), "goal_id")
    edges = []
    for goal in page:
        node = goal_head(goal)
        node["forecastable"] = forecastable(goal, pipelines[goal["id"]])
        node["pipelines"] = [{"id": gid("Pipeline", p["id"]), "name": p["name"]} for p in
                             pipelines[goal["id"]]]  # fmt: skip
        node["status"] = whole_status(goal, goal, today)
        node["progress"] = progress(goal)
        node["contributors"] = [
            {
                "id": gid("ContributorGoal", c["id"]),
                "contributor": contributor(c),
                "status": whole_status(goal, c, today),
                "progress": progress(c),
            }
            for c in contributors[goal["id"]]
        ]
        edges.append({"cursor": cursor(goal), "node": node})
    return {
        "goals": {
            "totalCount": total,
            "pageInfo": {
                "hasNextPage": len(rows) > first,
                "endCursor": edges[-1]["cursor"] if edges else None,
            },
            "edges": edges,
        }
    }


async def goal_details(
    conn: asyncpg.Connection, viewer: asyncpg.Record, goal_id: int, today: datetime.date
) -> dict[str, Any]:
    account_id = viewer["account_id"]
    goal = await conn.fetchrow(DETAILS_SQL, account_id, goal_id)
    if goal is None:
        return {"goal": None}
    pipelines = await conn.fetch(PIPELINES_SQL, [goal_id])
    contributors = await conn.fetch(CONTRIBUTORS_SQL, account_id, [goal_id])
    ids = [c["id"] for c in contributors]
    milestones = grouped(await conn.fetch(MILESTONES_SQL, ids), "contributor_goal_id")
    first_day = today - datetime.timedelta(days=HISTORY_DAYS - 1)
    history = grouped(await conn.fetch(HISTORY_SQL, ids, first_day, today), "contributor_goal_id")
    better = higher_is_better(GoalType(goal["type"]))

    def milestone(row: asyncpg.Record) -> dict[str, Any]:
        percent = percent_of_target(row["value"], row["target"], better)
        return {
            "index": row["index"],
            "startDate": day(row["start_date"]),
            "endDate": day(row["end_date"]),
            "target": decimal_text(row["target"]) or "0",
            "value": decimal_text(row["value"]),
            "percent": percent_number(percent),
            "status": status_of(
                start_date=row["start_date"],
                end_date=row["end_date"],
                today=today,
                value=row["value"],
                target=row["target"],
                percent=percent,
            ).value,
            "final": row["final"],
            "pipelines": [{"id": gid("Pipeline", p)} for p in row["pipeline_ids"]],
        }

    created_by = goal["created_by_id"]
    node = goal_head(goal)
    node.update(
        {
            "alignToFiscalYear": goal["align_to_fiscal_year"],
            "forecastable": forecastable(goal, pipelines),
            "notify": json.loads(goal["notify"]),
            "createdAt": day(goal["created_at"]),
            "updatedAt": day(goal["updated_at"]),
            "createdBy": None
            if created_by is None
            else {"id": gid("User", created_by), "name": goal["created_by_name"]},
            "pipelines": [
                {"id": gid("Pipeline", p["id"]), "name": p["name"], "objectType": p["object_type"]}
                for p in pipelines
            ],
            "status": whole_status(goal, goal, today),
            "progress": progress(goal),
            "contributors": [
                {
                    "id": gid("ContributorGoal", c["id"]),
                    "contributor": contributor(c),
                    "status": whole_status(goal, c, today),
                    "progress": progress(c),
                    "milestones": [milestone(m) for m in milestones[c["id"]]],
                    "history": [
                        {
                            "date": day(h["date"]),
                            "value": decimal_text(h["value"]),
                            "percent": percent_number(h["percent"]),
                        }
                        for h in history[c["id"]]
                    ],
                }
                for c in contributors
            ],
        }
    )
    return {"goal": node}


def viewer_data(viewer: asyncpg.Record) -> dict[str, Any]:
    return {
        "viewer": {
            "id": gid("User", viewer["id"]),
            "externalId": viewer["external_id"],
            "email": viewer["email"],
            "name": viewer["name"],
            "seat": viewer["seat"],
            "goalPermission": viewer["goal_permission"],
            "isAdmin": viewer["is_admin"],
            "teams": [
                {"id": gid("Team", pk), "name": name}
                for pk, name in zip(viewer["team_ids"], viewer["team_names"], strict=True)
            ],
            "account": {
                "id": gid("Account", viewer["account_id"]),
                "name": viewer["account_name"],
                "timezone": viewer["timezone"],
                "fiscalYearStartMonth": viewer["fiscal_year_start_month"],
                "currency": viewer["currency"],
            },
        }
    }


def create_bare_app(database_url: str) -> Starlette:
    pool: asyncpg.Pool | None = None

    async def graphql(request: Request) -> Response:
        assert pool is not None
        body = await request.json()
        token = request.headers.get("authorization", "").partition(" ")[2]
        name = body.get("operationName")
        variables = body.get("variables") or {}
        async with pool.acquire() as conn:
            viewer = await conn.fetchrow(VIEWER_SQL, hashlib.sha256(token.encode()).hexdigest())
            if viewer is None:
                return JSONResponse({"data": None}, status_code=401)
            # The bench's account is in UTC.
            today = datetime.datetime.now(datetime.UTC).date()
            if name == "Viewer":
                data = viewer_data(viewer)
            elif name == "ManageGoals":
                data = await manage_goals(conn, viewer, variables.get("first") or 20, today)
            elif name == "GoalDetails":
                goal_id = decode_global_id(variables["id"], "Goal") or 0
                data = await goal_details(conn, viewer, goal_id, today)
            else:
                return JSONResponse({"data": None}, status_code=400)
        return Response(json.dumps({"data": data}), media_type="application/json")

    async def lifespan(_: Starlette):  # type: ignore[no-untyped-def]
        nonlocal pool
        pool = await asyncpg.create_pool(database_url.replace("postgres://", "postgresql://", 1))
        try:
            yield
        finally:
            await pool.close()

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    uvicorn.run(
        create_bare_app(args.database_url), host="127.0.0.1", port=args.port, log_level="warning"
    )


if __name__ == "__main__":
    main()
