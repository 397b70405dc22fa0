"""`manage.py` run in a fresh process with nothing set but what a test names, as a user types it."""

import subprocess

from analysis.bench.processes import MANAGE, ROOT


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    return subprocess.run([*MANAGE, *args], env={**clean, **env}, cwd=ROOT, capture_output=True, text=True)
