"""Load benchmark: many users upload and analyse at once on one web process and two workers, on loopback.

python -m analysis.bench.load                 # 20 users, 2 workers, PostgreSQL at 127.0.0.1 and a private Redis,
                                              # then what strangers may try (--no-strangers to skip),
                                              # then how soon a worker sent SIGTERM hands its run back
python -m analysis.bench.load --users 40 --postgres postgresql://postgres@127.0.0.1:5432/test

Prints whether every run finished with the right pairs, page response times while runs execute, and how
many progress messages each run sent per second. Some users hold a websocket open and never read it (a slow
browser) and some drop theirs at once (a vanished one): neither may hold up a worker.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import csv
import io
import os
import re
import signal
import socket
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import psycopg
from channels_redis.core import RedisChannelLayer

from analysis.bench.pictures import save, scene
from analysis.bench.processes import Redis, Site, free_port, stop, temporary_database
from analysis.bench.strangers import (
    accepted_upload,
    declared_too_large,
    guessed_passwords,
    make_user,
    quota_race,
    undeclared_too_large,
)
from deepchecker_site.redis_hosts import channel_layer_host

FILES_PER_USER = 6  # three copies of one picture and three others


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--postgres", default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--no-strangers", action="store_true", help="skip the probes of what a stranger may try")
    args = parser.parse_args()
    report(load(args.users, args.workers, args.postgres), args.users, args.workers)
    if not args.no_strangers:
        strangers(args.postgres)
    hand_back(args.postgres)
    return 0


def strangers(postgres_url: str) -> None:
    """Oversized bodies, a 1 GiB upload, submissions racing a quota and guessed passwords, on two web processes."""
    limit = 1536 * 1024**2
    with tempfile.TemporaryDirectory(prefix="deepchecker-strangers-") as folder, temporary_database(postgres_url) as db:
        root = Path(folder)
        redis = Redis(root)
        data = root / "data"
        data.mkdir()
        extra = {
            "DATABASE_URL": db,
            "REDIS_URL": redis.url,
            "USER_MAX_ACTIVE_RUNS": "3",
            "UPLOAD_MAX_BYTES": str(limit),
        }
        site = Site(data, extra).migrate()
        ports = [free_port(), free_port()]
        webs = [site.serve(port, "--no-worker") for port in ports]
        try:
            status, seconds = declared_too_large(ports[0], make_user(site, "sender"))
            print(f"strangers: a declared 3 GiB body: {status} in {seconds:.2f} s, no byte of it read")
            response, taken = undeclared_too_large(ports[0], make_user(site, "streamer"), 3 * 1024**3)
            print(
                f"strangers: a 3 GiB body with no declared length: {response.status_code} once "
                f"{taken / 1024**2:.0f} MB were taken (limit {limit // 1024**2} MB), the connection closed"
            )
            response, grown, seconds = accepted_upload(ports[0], make_user(site, "uploader"), webs[0].pid)
            print(
                f"strangers: an accepted upload of 1024 MB: {response.status_code} in {seconds:.1f} s;"
                f" web process peak RSS grew by {grown:.0f} MB"
            )
            answers = quota_race(ports, make_user(site, "racer"))
            print(
                f"strangers: 12 submissions at once on 2 web processes, at a quota of 3: "
                f"{answers.count(201)} accepted, {answers.count(400)} refused"
            )
            make_user(site, "victim")
            statuses, right, retry = guessed_passwords(ports[0], "victim")
            first = next((number for number, code in enumerate(statuses, 1) if code == 429), None)
            print(
                f"strangers: 30 wrong passwords: refused with 429 from attempt {first}; then the right password: "
                f"{right}, Retry-After {retry} s"
            )
        finally:
            for web in webs:
                stop(web)
            redis.stop()


def hand_back(postgres_url: str) -> None:
    """How long a worker sent SIGTERM takes to put its run back in the queue, and to exit, at each stage."""
    with tempfile.TemporaryDirectory(prefix="deepchecker-hand-back-") as folder, temporary_database(postgres_url) as db:
        root = Path(folder)
        data = root / "data"
        data.mkdir()
        for seed in range(30):  # with copies, so that verifying lasts long enough to be caught
            picture = scene(seed, 1200, 900)
            save(picture, root / "figures" / f"figure_{seed:02}.png")
            save(np.rot90(picture), root / "figures" / f"figure_{seed:02}_turned.png")
        site = Site(data, {"DATABASE_URL": db}).migrate()
        for stage in ("reading", "candidates", "verifying"):
            site.create_run(root / "figures")
            worker = site.start(f"worker-{stage}", "analysis_worker")
            try:
                status = run_status(db, lambda status, at, stage=stage: status == "running" and at == stage, 300)
                signalled = time.monotonic()
                worker.send_signal(signal.SIGTERM)
                status = run_status(db, lambda status, at: status != "running", 60)
                queued = time.monotonic() - signalled
                worker.wait(60)
                exited = time.monotonic() - signalled
            finally:
                stop(worker)
            with psycopg.connect(db) as connection:  # out of the next worker's way
                connection.execute("update analysis_run set status = 'cancelled'")
            if status != "queued":
                print(f"hand-back: the run was {status} before SIGTERM caught it {stage}")
                continue
            print(
                f"hand-back: SIGTERM while {stage}: the run queued again after {queued:.2f} s,"
                f" the worker exited after {exited:.2f} s"
            )


def run_status(db: str, awaited, seconds: float) -> str:
    """The newest run's status once awaited(status, stage) holds or the run is over; polled every 10 ms."""
    deadline = time.monotonic() + seconds
    with psycopg.connect(db, autocommit=True) as connection:
        while True:
            status, stage = connection.execute(
                "select status, stage from analysis_run order by id desc limit 1"
            ).fetchone()
            if awaited(status, stage) or status not in ("queued", "running"):
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"the run stayed {status} at {stage!r}")
            time.sleep(0.01)


def load(users: int, workers: int, postgres_url: str) -> dict:
    """Starts a site on a new database and a private Redis, lets the users loose on it, and measures."""
    with tempfile.TemporaryDirectory(prefix="deepchecker-load-") as folder, temporary_database(postgres_url) as db:
        root = Path(folder)
        redis = Redis(root)
        data = root / "data"
        data.mkdir()
        site = Site(data, {"DATABASE_URL": db, "REDIS_URL": redis.url, "ENGINE_WORKERS": "1"}).migrate()
        port = free_port()
        processes = [site.serve(port, "--no-worker")]
        processes += [site.start(f"worker-{number}", "analysis_worker") for number in range(workers)]
        try:
            return measure(f"http://127.0.0.1:{port}", root, users, redis.url)
        finally:
            for process in processes:
                stop(process)
            redis.stop()


def figures(root: Path, user: int) -> tuple[list[tuple[str, bytes]], set[frozenset[str]]]:
    """A user's upload: a picture, a turned copy, a flipped crop and three others; and the duplicate pairs."""
    folder = root / f"user{user}"
    picture = scene(1000 + user, 640, 480)
    save(picture, folder / "fig1.png")
    save(np.rot90(picture), folder / "fig2_turned.png")
    save(picture[:, ::-1][40:440, 60:600], folder / "supplement" / "fig3_flipped_crop.png")
    for other in range(FILES_PER_USER - 3):
        save(scene(5000 + 10 * user + other, 640, 480), folder / f"other_{other}.png")
    files = [(path.relative_to(folder).as_posix(), path.read_bytes()) for path in sorted(folder.rglob("*.png"))]
    copies = ["fig1.png", "fig2_turned.png", "supplement/fig3_flipped_crop.png"]
    return files, {frozenset((a, b)) for i, a in enumerate(copies) for b in copies[i + 1 :]}


class MessageLog:
    """Every progress message each run sends, with when it came, heard on the channel layer like a page."""

    def __init__(self, redis_url: str):
        self.layer = RedisChannelLayer(hosts=[channel_layer_host(redis_url)])
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.listeners: list[asyncio.Task] = []
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def follow(self, code: str) -> None:
        asyncio.run_coroutine_threadsafe(self._listen(code), self.loop).result(5)

    async def _listen(self, code: str) -> None:
        channel = await self.layer.new_channel()
        await self.layer.group_add(f"run-{code.replace('-', '')}", channel)

        async def receive() -> None:
            while True:
                try:
                    await self.layer.receive(channel)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a Redis read failing: listen on, counted
                    self.errors.append(repr(exc))
                    continue
                self.times[code].append(time.monotonic())

        self.listeners.append(asyncio.ensure_future(receive()))

    def close(self) -> None:
        async def cancel() -> None:
            for listener in self.listeners:
                listener.cancel()
            await asyncio.gather(*self.listeners, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(cancel(), self.loop).result(5)


def hold_websocket(base: str, path: str, cookies: httpx.Cookies, keep: bool) -> socket.socket | None:
    """Opens the run page's websocket and never reads from it (keep) or drops it at once (not keep)."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {base}\r\nCookie: {cookie}\r\n\r\n".encode()
    )
    if keep:
        return sock
    sock.close()
    return None


def one_user(base: str, root: Path, user: int, messages: MessageLog, page_times: list[float], held: list) -> dict:
    files, expected = figures(root, user)
    with httpx.Client(base_url=base, timeout=120) as client:
        client.get("/accounts/signup/")
        password = f"load test passphrase {user} x"
        client.post(
            "/accounts/signup/",
            data={
                "username": f"user{user}",
                "password1": password,
                "password2": password,
                "csrfmiddlewaretoken": client.cookies["csrftoken"],
            },
        )
        started = time.monotonic()
        response = client.post(
            "/",
            data={
                "clip_model": "ViT-B-32",
                "paths": [name for name, _ in files],
                "csrfmiddlewaretoken": client.cookies["csrftoken"],
            },
            files=[("files", (name.rsplit("/", 1)[-1], content, "image/png")) for name, content in files],
        )
        run_path = response.headers["location"]
        code = re.search(r"/runs/([0-9a-f-]+)/", run_path).group(1)
        messages.follow(code)
        if user % 4 in (0, 1):
            socket_held = hold_websocket(base, f"/ws{run_path}", client.cookies, keep=user % 4 == 0)
            if socket_held:
                held.append(socket_held)
        while True:
            asked = time.monotonic()
            page = client.get(run_path)
            page_times.append(time.monotonic() - asked)
            status = re.search(r'class="status status-(\w+)"', page.text).group(1)
            if status in ("done", "failed", "cancelled"):
                break
            time.sleep(0.5)
        finished = time.monotonic() - started
        rows = list(csv.DictReader(io.StringIO(client.get(f"{run_path}pairs.csv?all=1").text)))
    found = {frozenset((row["image1"], row["image2"])) for row in rows if row["verdict"] == "duplicate"}
    return {"status": status, "correct": status == "done" and found == expected, "seconds": finished, "code": code}


def measure(base: str, root: Path, users: int, redis_url: str) -> dict:
    messages = MessageLog(redis_url)
    page_times: list[float] = []
    held: list[socket.socket] = []
    started = time.monotonic()
    with ThreadPoolExecutor(users) as pool:
        runs = list(pool.map(lambda user: one_user(base, root, user, messages, page_times, held), range(users)))
    wall = time.monotonic() - started
    messages.close()
    for sock in held:
        sock.close()
    return {
        "runs": runs,
        "wall": wall,
        "page_times": page_times,
        "messages": messages.times,
        "listen_errors": messages.errors,
        "held": len(held),
    }


def report(measured: dict, users: int, workers: int) -> None:
    runs = measured["runs"]
    seconds = sorted(run["seconds"] for run in runs)
    pages = sorted(measured["page_times"])
    counts = [len(measured["messages"][run["code"]]) for run in runs]
    peak = max((_peak_per_second(measured["messages"][run["code"]]) for run in runs), default=0)
    print(f"load: {users} users at once, {workers} workers, {FILES_PER_USER} files each (PostgreSQL + Redis, loopback)")
    print(
        f"runs done: {sum(run['status'] == 'done' for run in runs)}/{users}, "
        f"with the right duplicate pairs: {sum(run['correct'] for run in runs)}/{users}"
    )
    print(
        f"wall time {measured['wall']:.1f} s; upload to result per user: p50 {_quantile(seconds, 0.5):.1f} s,"
        f" p95 {_quantile(seconds, 0.95):.1f} s"
    )
    print(
        f"run page while runs execute: {len(pages)} requests, p50 {1000 * _quantile(pages, 0.5):.0f} ms,"
        f" p95 {1000 * _quantile(pages, 0.95):.0f} ms"
    )
    print(
        f"progress messages per run: mean {statistics.mean(counts):.1f}, max {max(counts)};"
        f" most in any one second of one run: {peak}; listener's Redis read errors, listened through:"
        f" {len(measured['listen_errors'])}"
    )
    print(f"websockets held open and never read: {measured['held']}; dropped at once: {users // 4}")


def _quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else float("nan")


def _peak_per_second(times: list[float]) -> int:
    return max((sum(1 for other in times if start <= other < start + 1) for start in times), default=0)


if __name__ == "__main__":
    raise SystemExit(main())
