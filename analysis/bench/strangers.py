"""What a stranger may try, measured through real sockets against `manage.py serve` processes: bodies over the
upload limit, a 1 GiB upload, submissions racing a quota, and passwords guessed. The load benchmark prints these
figures (`python -m analysis.bench.load`); the tests assert them (tests/test_upload_server.py, test_scale_out.py).
"""

from __future__ import annotations

import io
import re
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from PIL import Image

from analysis.bench.pictures import scene
from analysis.bench.processes import Site

MAKE_KEY = """
from django.contrib.auth.models import User
from analysis.models import ApiToken
user = User.objects.create_user({username!r}, password={password!r})
print(ApiToken.issue(user, "stranger")[1])
"""
PASSWORD = "a long test passphrase 7"
PNG_START = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
CHUNK = 4 * 1024**2


def peak_memory_mb(pid: int) -> float:
    """A process's highest resident set so far (VmHWM)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024


def make_user(site: Site, username: str) -> str:
    """A user with PASSWORD, and an API key of theirs."""
    code = MAKE_KEY.format(username=username, password=PASSWORD)
    return site.manage("shell", "--no-imports", "-c", code).strip().splitlines()[-1]


def api_headers(key: str) -> dict:
    return {"Authorization": f"Bearer {key}", "Content-Type": "multipart/form-data; boundary=x"}


def file_part(size: int, closed: bool = True) -> tuple[int, Iterator[bytes]]:
    """A multipart body of one PNG-named file of about `size` bytes, streamed; and its length."""
    start = b'--x\r\nContent-Disposition: form-data; name="files"; filename="big.png"\r\n\r\n' + PNG_START
    end = b"\r\n--x--\r\n" if closed else b""
    chunks = size // CHUNK

    def body() -> Iterator[bytes]:
        yield start
        for _ in range(chunks):
            yield bytes(CHUNK)
        yield end

    return len(start) + chunks * CHUNK + len(end), body()


def declared_too_large(port: int, key: str, size: int = 3 * 1024**3) -> tuple[str, float]:
    """The status line answered to headers declaring `size` bytes, no body sent; and the seconds it took."""
    headers = (
        f"POST /api/runs/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {size}\r\n\r\n"
    )
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(headers.encode())
        status = connection.recv(4096).split(b"\r\n", 1)[0].decode()
    return status, time.monotonic() - started


def undeclared_too_large(port: int, key: str, size: int) -> tuple[httpx.Response, int]:
    """A chunked body of `size` bytes with no declared length: the answer, and how much of it the server took
    before it answered."""
    _, body = file_part(size, closed=False)
    sent = 0

    def counted() -> Iterator[bytes]:
        nonlocal sent
        for chunk in body:
            sent += len(chunk)
            yield chunk

    response = httpx.post(
        f"http://127.0.0.1:{port}/api/runs/", headers=api_headers(key), content=counted(), timeout=300
    )
    return response, sent


def accepted_upload(port: int, key: str, pid: int, size: int = 1024**3) -> tuple[httpx.Response, float, float]:
    """An upload of `size` bytes with its length declared, as browsers and curl send one: the answer, the web
    process's peak memory growth in MB, and the seconds it took."""
    before = peak_memory_mb(pid)
    length, body = file_part(size)
    started = time.monotonic()
    response = httpx.post(
        f"http://127.0.0.1:{port}/api/runs/",
        headers={**api_headers(key), "Content-Length": str(length)},
        content=body,
        timeout=600,
    )
    return response, peak_memory_mb(pid) - before, time.monotonic() - started


def quota_race(ports: list[int], key: str, submissions: int = 12) -> list[int]:
    """The statuses of `submissions` small submissions sent at the same moment, spread over the web processes."""
    png = io.BytesIO()
    Image.fromarray(scene(5, 64, 48)).save(png, format="PNG")
    start = threading.Barrier(submissions)

    def submit(number: int) -> int:
        start.wait()
        response = httpx.post(
            f"http://127.0.0.1:{ports[number % len(ports)]}/api/runs/",
            headers={"Authorization": f"Bearer {key}"},
            files={"files": (f"figure{number}.png", png.getvalue(), "image/png")},
            timeout=120,
        )
        return response.status_code

    with ThreadPoolExecutor(submissions) as pool:
        return list(pool.map(submit, range(submissions)))


def guessed_passwords(port: int, username: str, wrong: int = 30) -> tuple[list[int], int, str]:
    """Statuses of `wrong` sign-ins with a wrong password and then of one with the right one, from one client;
    and the Retry-After of that last answer."""
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)

    def sign_in(password: str) -> httpx.Response:
        page = client.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        form = {"username": username, "password": password, "csrfmiddlewaretoken": token}
        return client.post("/accounts/login/", data=form, headers={"Referer": str(page.url)})

    with client:
        statuses = [sign_in("wrong guess").status_code for _ in range(wrong)]
        right = sign_in(PASSWORD)
    return statuses, right.status_code, right.headers.get("Retry-After", "")
