"""A client that hangs up mid-request is the client's business: no 500, no traceback."""

import re
import socket
import time

import httpx

from tests.e2e.conftest import Goals, free_port, wait_until_ready


def _hang_up(port: int, token: str, framing: bytes, partial_body: bytes) -> None:
    """Sends the headers and part of the body, then closes the connection."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Authorization: Bearer " + token.encode() + b"\r\n"
            b"Content-Type: application/json\r\n" + framing + b"\r\n\r\n" + partial_body
        )
        time.sleep(0.2)


def test_a_client_hanging_up_mid_request_is_no_server_error(goals: Goals) -> None:
    assert goals.run("migrate").returncode == 0
    bootstrap = goals.run("bootstrap", "--account", "Acme", "--admin-email", "ops@acme.test")
    token = bootstrap.stdout.strip().splitlines()[-1]
    port = free_port()
    server = goals.start("serve", "serve", "--port", str(port))
    base_url = f"http://127.0.0.1:{port}"
    wait_until_ready(base_url, server)

    for _ in range(3):
        _hang_up(port, token, b"Content-Length: 100000", b'{"query": "{ viewer { id } }", "v')
        _hang_up(port, token, b"Transfer-Encoding: chunked", b'10\r\n{"query": "{ vi')
    time.sleep(0.5)

    metrics = httpx.get(f"{base_url}/metrics").text
    graphql = re.findall(
        r'^goals_http_requests_total\{method="POST",path="/graphql",status="(\d+)"\} (\S+)',
        metrics,
        re.M,
    )
    statuses = {status: float(count) for status, count in graphql}
    assert "500" not in statuses, statuses
    assert statuses.get("499") == 6, statuses
    log = goals.log("serve")
    assert "Traceback" not in log, log[-3000:]
    assert "Exception" not in log, log[-3000:]
    assert log.count("client disconnected") == 6
    # The server still answers.
    assert httpx.get(f"{base_url}/healthz").status_code == 200
