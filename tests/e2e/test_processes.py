"""The production processes as an operator runs them: migrate, bootstrap, serve, worker."""

import signal
import subprocess
import time
from datetime import date

import httpx

from tests.e2e.conftest import Goals, free_port, post, wait_until_ready


def test_migrate_bootstrap_serve_and_work(goals: Goals) -> None:
    migrated = goals.run("migrate")
    assert migrated.returncode == 0, migrated.stderr
    again = goals.run("migrate")
    assert again.returncode == 0, again.stderr

    bootstrap = goals.run(
        "bootstrap",
        "--account", "Northwind",
        "--admin-email", "olga@northwind.example.com",
        "--timezone", "Europe/Warsaw",
    )  # fmt: skip
    assert bootstrap.returncode == 0, bootstrap.stderr
    token = bootstrap.stdout.strip().splitlines()[-1]
    assert token.startswith("gls_")

    port = free_port()
    server = goals.start("serve", "serve", "--port", str(port))
    worker = goals.start("worker", "worker")
    base_url = f"http://127.0.0.1:{port}"
    ready = wait_until_ready(base_url, server)
    assert ready == {"database": "ok", "redis": "ok"}

    viewer = post(base_url, token, "Viewer")["viewer"]
    assert viewer["email"] == "olga@northwind.example.com"
    assert viewer["isAdmin"] is True
    assert viewer["account"]["name"] == "Northwind"
    assert viewer["account"]["timezone"] == "Europe/Warsaw"

    year = date.today().year
    created = post(
        base_url,
        token,
        "CreateGoal",
        {
            "input": {
                "name": "Calls per quarter",
                "category": "SALES",
                "type": "CALLS_LOGGED",
                "startDate": f"{year}-01-01",
                "endDate": f"{year}-12-31",
                "milestonePeriod": "QUARTERLY",
                "pipelineIds": [],
                "notify": ["GOAL_ASSIGNED"],
                "contributors": [{"userId": viewer["id"], "targets": [30, 30, 40, "40.5"]}],
            }
        },
    )["createGoal"]
    assert created["userErrors"] == []
    (contributor,) = created["goal"]["contributors"]
    assert contributor["contributor"]["email"] == "olga@northwind.example.com"
    assert [m["startDate"] for m in contributor["milestones"]] == [
        f"{year}-01-01",
        f"{year}-04-01",
        f"{year}-07-01",
        f"{year}-10-01",
    ]
    assert [float(m["target"]) for m in contributor["milestones"]] == [30, 30, 40, 40.5]

    # A second token for the same admin, from the command line, opens the same account.
    issued = goals.run("token", "--email", "OLGA@northwind.example.com", "--name", "laptop")
    assert issued.returncode == 0, issued.stderr
    second = issued.stdout.strip().splitlines()[-1]
    assert second != token
    assert post(base_url, second, "Viewer")["viewer"]["id"] == viewer["id"]

    # The assignment went through Redis to the worker, which "sent" the email (no SMTP host:
    # the email is logged) and the in-app notification is listed.
    deadline = time.monotonic() + 15
    while "olga@northwind.example.com" not in goals.log("worker"):
        assert worker.poll() is None, goals.log("worker")
        assert time.monotonic() < deadline, goals.log("worker")
        time.sleep(0.2)
    assert "deliver_notification" in goals.log("worker")
    # The goal's progress was computed right after its creation, without any refresh call.
    deadline = time.monotonic() + 15
    while True:
        (shown,) = post(base_url, token, "ManageGoals", {"first": 10})["goals"]["edges"]
        if shown["node"]["progress"]["refreshedAt"]:
            break
        assert time.monotonic() < deadline, goals.log("worker")
        time.sleep(0.2)
    assert shown["node"]["progress"]["value"] == "0"  # no calls logged
    assert "refresh_goal" in goals.log("worker")
    inbox = post(base_url, token, "MyNotifications", {"first": 10})["viewer"]["notifications"]
    assert [edge["node"]["kind"] for edge in inbox["edges"]] == ["GOAL_ASSIGNED"]
    assert inbox["edges"][0]["node"]["goal"]["name"] == "Calls per quarter"
    assert worker.poll() is None, goals.log("worker")
    assert goals.stop(worker, signal.SIGTERM) == 0, goals.log("worker")
    # Uvicorn shuts down gracefully, then lets SIGTERM end the process as it asked.
    assert goals.stop(server, signal.SIGTERM) in (0, -signal.SIGTERM), goals.log("serve")
    assert "Application shutdown complete." in goals.log("serve")
    assert "Starting worker" in goals.log("worker")


def test_operator_mistakes_exit_with_code_2(goals: Goals) -> None:
    assert goals.run("migrate").returncode == 0
    for account in ("One", "Two"):
        assert (
            goals.run("bootstrap", "--account", account, "--admin-email", "ann@x.com").returncode
            == 0
        )

    unknown = goals.run("token", "--email", "nobody@x.com")
    assert unknown.returncode == 2
    assert "No user with email 'nobody@x.com'" in unknown.stderr

    ambiguous = goals.run("token", "--email", "ann@x.com")
    assert ambiguous.returncode == 2
    assert "several accounts" in ambiguous.stderr and "--account" in ambiguous.stderr
    chosen = goals.run("token", "--email", "ann@x.com", "--account", "Two")
    assert chosen.returncode == 0 and chosen.stdout.strip().splitlines()[-1].startswith("gls_")

    bad_zone = goals.run(
        "bootstrap", "--account", "Three", "--admin-email", "b@x.com", "--timezone", "Mars/Olympus"
    )
    assert bad_zone.returncode == 2
    assert "not an IANA time zone" in bad_zone.stderr

    missing = goals.run("bootstrap", "--account", "Three")
    assert missing.returncode == 2
    assert "--admin-email" in missing.stderr


def test_dev_runs_everything_and_seeds_once(goals: Goals, tmp_path) -> None:
    goals.env = {k: v for k, v in goals.env.items() if not k.startswith("GOALS_")}
    workdir = tmp_path / "project"
    workdir.mkdir()
    port = free_port()

    def start_dev() -> tuple[subprocess.Popen[bytes], str, str]:
        dev = goals.start("dev", "dev", "--port", str(port), cwd=workdir)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            lines = goals.log("dev").splitlines()
            token = next((line.split()[-1] for line in lines if line.startswith("Token: ")), None)
            url = next((line.split()[-1] for line in lines if line.startswith("GraphiQL: ")), None)
            if token and url:
                return dev, token, url
            assert dev.poll() is None, goals.log("dev")
            time.sleep(0.2)
        raise AssertionError(goals.log("dev"))

    dev, token, url = start_dev()
    assert url == f"http://127.0.0.1:{port}/graphql"
    assert (workdir / "goals.db").exists()
    base_url = url.removesuffix("/graphql")
    assert httpx.get(url, headers={"Accept": "text/html"}).status_code == 200
    first = post(base_url, token, "ManageGoals", {"first": 100})["goals"]
    assert first["totalCount"] >= 5
    # The first start refreshed progress: every demo goal shows when, and records count.
    goals_seen = [edge["node"] for edge in first["edges"]]
    assert all(goal["progress"]["refreshedAt"] for goal in goals_seen)
    assert any(float(goal["progress"]["value"] or 0) > 0 for goal in goals_seen)
    assert "Demo data: created." in goals.log("dev")
    assert goals.stop(dev, signal.SIGINT) == 0, goals.log("dev")
    assert "Stopped." in goals.log("dev")

    dev, token, _ = start_dev()
    assert "Demo data: already there." in goals.log("dev")
    again = post(base_url, token, "ManageGoals", {"first": 100})["goals"]
    assert again["totalCount"] == first["totalCount"]
    assert goals.stop(dev, signal.SIGTERM) == 0, goals.log("dev")
