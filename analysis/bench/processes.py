"""DeepChecker's own processes (`serve`, `analysis_worker`, `manage.py` commands) started as `make run` or a
deployment starts them: for the load benchmark and the tests."""

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MANAGE = [sys.executable, str(ROOT / "manage.py")]

CREATE_RUN = """
import pathlib
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from analysis.models import Run, Upload
owner, _ = User.objects.get_or_create(username="alice")
run = Run.objects.create(owner=owner)
for path in sorted(pathlib.Path({folder!r}).iterdir()):
    Upload.store(run, ContentFile(path.read_bytes(), name=path.name), path.name)
print(run.code)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"nothing listens on port {port}: {log.read_text()}") from None
            time.sleep(0.2)


@dataclass
class Site:
    """One deployment: its data folder and its settings; SQLite and the in-process layer unless extra says."""

    data: Path
    extra: dict = field(default_factory=dict)

    def env(self) -> dict:
        # a short lease: a run cut off by a killed process is taken again within seconds
        return {
            **os.environ,
            "DATA_DIR": str(self.data),
            "DEBUG": "1",
            "ENGINE_WORKERS": "2",
            "JOB_LEASE_SECONDS": "6",
            "SIGNUP_ENABLED": "1",  # the browser tests' users sign up, all from 127.0.0.1
            "SIGNUPS_PER_HOUR": "1000",
            **self.extra,
        }

    def manage(self, *args: str) -> str:
        done = subprocess.run([*MANAGE, *args], env=self.env(), cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def migrate(self) -> "Site":
        self.manage("migrate", "-v0")
        return self

    def create_run(self, folder: Path) -> str:
        """A queued run of the files in folder, owned by alice; returns its code."""
        return self.manage("shell", "--no-imports", "-c", CREATE_RUN.format(folder=str(folder))).strip()

    def start(self, name: str, *args: str) -> subprocess.Popen:
        """A manage.py command in the background; its output goes to data/<name>.log."""
        with (self.data / f"{name}.log").open("a") as log:
            return subprocess.Popen([*MANAGE, *args], env=self.env(), cwd=ROOT, stdout=log, stderr=log)

    def serve(self, port: int, *args: str) -> subprocess.Popen:
        process = self.start("server", "serve", "--port", str(port), *args)
        wait_for_port(port, process, self.data / "server.log")
        return process


class Redis:
    """A redis-server of the test's own, on a free port, that the test may stop and start again."""

    def __init__(self, folder: Path):
        self.port, self.folder = free_port(), folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process, Path(os.devnull))

    def stop(self) -> None:
        stop(self.process)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, as a deployment stops a process; one still there 15 s later is killed, and that is an error."""
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


@contextmanager
def temporary_database(server_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of server_url, dropped afterwards; yields its URL."""
    import psycopg

    name = f"deepchecker_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield server_url.rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
