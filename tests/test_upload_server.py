"""Upload limits through a real server socket (`manage.py serve`, as `make run` starts it): a body over the limit is
refused before it is read, and an accepted upload does not grow the server's memory."""

import socket
from pathlib import Path

import httpx
import pytest

from analysis.bench.processes import Site, free_port, stop

MAKE_KEY = """
from django.contrib.auth.models import User
from analysis.models import ApiToken
print(ApiToken.issue(User.objects.create_user("uma"), "uploader")[1])
"""
PNG_START = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def peak_memory_mb(pid: int) -> float:
    """The process's highest resident set so far (VmHWM)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024


@pytest.fixture
def served(tmp_path):
    site = Site(tmp_path, {"UPLOAD_MAX_BYTES": str(1536 * 1024**2)}).migrate()
    key = site.manage("shell", "--no-imports", "-c", MAKE_KEY).strip().splitlines()[-1]
    port = free_port()
    process = site.serve(port, "--no-worker")
    yield process, port, key
    stop(process)


def answer_to_headers_alone(port: int, headers: str) -> str:
    """The status line the server sends to a request whose body is never sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(headers.encode())
        return connection.recv(4096).split(b"\r\n", 1)[0].decode()


def test_a_declared_length_over_the_limit_is_refused_before_a_byte_of_the_body(served):
    _, port, key = served
    headers = (
        f"POST /api/runs/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 3221225472\r\n\r\n"
    )
    assert answer_to_headers_alone(port, headers) == "HTTP/1.1 413 Request Entity Too Large"


def test_a_chunked_body_is_cut_off_when_it_passes_the_limit(served):
    process, port, key = served
    before = peak_memory_mb(process.pid)
    sent = 0

    def body():
        nonlocal sent
        yield b'--x\r\nContent-Disposition: form-data; name="files"; filename="big.png"\r\n\r\n' + PNG_START
        while sent < 3 * 1024**3:  # twice the limit, if the server let it
            sent += 4 * 1024**2
            yield bytes(4 * 1024**2)

    response = httpx.post(
        f"http://127.0.0.1:{port}/api/runs/",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "multipart/form-data; boundary=x"},
        content=body(),
        timeout=120,
    )
    assert response.status_code == 413
    assert response.json()["error"].endswith("at most 1536 MB can be analysed at once. Split it into several analyses.")
    assert sent < 1600 * 1024**2  # the server closed the connection at the limit: the rest was never sent
    assert process.poll() is None and peak_memory_mb(process.pid) - before < 150


def test_an_accepted_upload_of_a_gigabyte_does_not_grow_the_server(served):
    process, port, key = served
    before = peak_memory_mb(process.pid)
    start = b'--x\r\nContent-Disposition: form-data; name="files"; filename="big.png"\r\n\r\n' + PNG_START
    end = b"\r\n--x--\r\n"
    chunks = 1024**3 // (4 * 1024**2)

    def body():
        yield start
        for _ in range(chunks):
            yield bytes(4 * 1024**2)
        yield end

    # a length declared, as browsers and curl declare it: Django reads no multipart body without one
    length = len(start) + chunks * 4 * 1024**2 + len(end)
    response = httpx.post(
        f"http://127.0.0.1:{port}/api/runs/",
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(length),
        },
        content=body(),
        timeout=300,
    )
    assert response.status_code == 201, response.text
    grown = peak_memory_mb(process.pid) - before
    assert grown < 150, f"the server grew by {grown:.0f} MB for a 1 GiB upload"
