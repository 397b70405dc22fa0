"""The real server, as `make run` starts it, in a subprocess of the tests."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANAGE = [sys.executable, str(ROOT / "manage.py")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(data: Path) -> dict:
    # a short lease: a run cut off by a killed process is taken again within seconds
    return {
        **os.environ,
        "DATA_DIR": str(data),
        "DEBUG": "1",
        "CLIP_DOWNLOAD": "0",
        "ENGINE_WORKERS": "2",
        "JOB_LEASE_SECONDS": "6",
    }


def migrate(data: Path) -> None:
    subprocess.run([*MANAGE, "migrate", "-v0"], env=server_env(data), check=True, cwd=ROOT)


def start_server(data: Path, port: int) -> subprocess.Popen:
    """`manage.py serve` on the port, once it accepts connections; its output goes to data/server.log."""
    with (data / "server.log").open("a") as log:
        process = subprocess.Popen(
            [*MANAGE, "serve", "--port", str(port)], env=server_env(data), cwd=ROOT, stdout=log, stderr=log
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"the server did not start: {(data / 'server.log').read_text()}") from None
            time.sleep(0.2)


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(10)
