"""Upload limits through a real server socket (`manage.py serve`, as `make run` starts it): a body over the limit is
refused before it is read, and an accepted upload does not grow the server's memory."""

import socket
import time

import pytest

from analysis.bench.processes import Site, free_port, stop
from analysis.bench.strangers import (
    accepted_upload,
    declared_too_large,
    make_user,
    peak_memory_mb,
    undeclared_too_large,
)
from analysis.management.commands.serve import GRACEFUL_SHUTDOWN_SECONDS

LIMIT = 1536 * 1024**2


@pytest.fixture
def served(tmp_path):
    site = Site(tmp_path, {"UPLOAD_MAX_BYTES": str(LIMIT)}).migrate()
    key = make_user(site, "uma")
    port = free_port()
    process = site.serve(port, "--no-worker")
    yield process, port, key
    stop(process)


def test_a_declared_length_over_the_limit_is_refused_before_a_byte_of_the_body(served):
    _, port, key = served
    status, _ = declared_too_large(port, key)
    assert status == "HTTP/1.1 413 Request Entity Too Large"


def test_a_body_without_a_declared_length_is_cut_off_when_it_passes_the_limit(served):
    process, port, key = served
    before = peak_memory_mb(process.pid)
    response, taken = undeclared_too_large(port, key, 2 * LIMIT)
    assert response.status_code == 413
    assert response.json()["error"].endswith("at most 1536 MB can be analysed at once. Split it into several analyses.")
    assert taken < LIMIT + 64 * 1024**2  # the connection closed at the limit: the rest was never sent
    assert process.poll() is None and peak_memory_mb(process.pid) - before < 150


def test_an_accepted_upload_of_a_gigabyte_does_not_grow_the_server(served):
    process, port, key = served
    response, grown, _ = accepted_upload(port, key, process.pid)
    assert response.status_code == 201, response.text
    assert grown < 150, f"the server grew by {grown:.0f} MB for a 1 GiB upload"


def test_a_server_stopped_while_an_upload_trickles_in_exits_all_the_same(served):
    process, port, key = served
    headers = (
        f"POST /api/runs/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {10 * 1024**2}\r\n\r\n--x\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(headers.encode())
        time.sleep(1)  # the request is with the application, waiting for the rest of its body
        stopped = time.monotonic()
        process.terminate()
        process.wait(60)  # uvicorn alone would wait for the body for ever
    assert time.monotonic() - stopped < GRACEFUL_SHUTDOWN_SECONDS + 10
