"""Prometheus metrics of a worker process. Each worker serves its own on
``GOALS_WORKER_METRICS_PORT`` (when set), as the API serves its own on /metrics."""

import structlog
from prometheus_client import Counter, Histogram, start_http_server

log = structlog.get_logger("goals.worker")

REFRESH_SECONDS = Histogram(
    "goals_refresh_seconds",
    "Duration of account refresh jobs, by outcome (refreshed, timeout, error)",
    ["outcome"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800),
)
REFRESH_FAILURES = Counter(
    "goals_refresh_failures_total",
    "Account refresh jobs that failed, by reason (timeout: the database cancelled a statement)",
    ["reason"],
)
REDIS_RECONNECTS = Counter(
    "goals_worker_redis_reconnects_total", "Times the worker lost Redis and connected again"
)


def serve_metrics(port: int | None) -> None:
    """Serve /metrics on ``port`` (all interfaces, like the API); nothing when it is None."""
    if port is None:
        return
    start_http_server(port)
    log.info("worker metrics served", port=port)
