"""The README's commands as a new user types them on a fresh checkout: no DEBUG, no SECRET_KEY, nothing set.

Only DATA_DIR points into a temporary folder, so that the test leaves the checkout's own `data/` alone; and the
Hugging Face hub is switched off, so that no test downloads weights."""

import csv
import subprocess
from pathlib import Path

import numpy as np
import pytest

from analysis.bench.processes import ROOT
from tests.commands import manage
from tests.images import save, scene

README = (ROOT / "README.md").read_text()


def readme_shows(command: str) -> None:
    assert f".venv/bin/python manage.py {command}" in README, f"the README no longer shows `{command}`"


@pytest.fixture
def data(tmp_path) -> Path:
    return tmp_path / "data"


def run(data: Path, *args: str) -> str:
    done = manage(*args, DATA_DIR=str(data), HF_HUB_OFFLINE="1")
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_admin_commands_work_as_written(data):
    readme_shows("migrate")
    run(data, "migrate")
    readme_shows("createsuperuser")
    run(data, "createsuperuser", "--noinput", "--username", "reviewer", "--email", "reviewer@example.org")
    said = run(data, "shell", "-c", "print(User.objects.get(username='reviewer').is_superuser)")
    assert said.splitlines()[-1] == "True"


def test_the_command_line_finds_duplicates_as_written(data, tmp_path):
    readme_shows("find_duplicates FOLDER_OR_FILE [...] --csv pairs.csv [--model ViT-B-32] [--no-clip] [--top 50]")
    folder = tmp_path / "figures"
    original = scene(7, 640, 480)
    save(original, folder / "fig1.png")
    save(np.rot90(original), folder / "fig2.png")
    save(scene(8, 640, 480), folder / "fig3.png")
    pairs = tmp_path / "pairs.csv"
    said = run(data, "find_duplicates", str(folder), "--csv", str(pairs), "--top", "50")
    assert "duplicates: 1" in said
    assert "semantic ranking unavailable: the ViT-B-32 weights are not installed" in said
    rows = list(csv.DictReader(pairs.read_text().splitlines()))
    assert {rows[0]["image1"], rows[0]["image2"]} == {"fig1.png", "fig2.png"}
    assert rows[0]["verdict"] == "duplicate"


def test_installing_the_weights_says_what_to_do_where_there_is_no_hub(data):
    readme_shows("fetch_clip_weights [ViT-B-32 ViT-B-16 ViT-L-14 | --all]")
    done = manage("fetch_clip_weights", "ViT-B-32", DATA_DIR=str(data), HF_HUB_OFFLINE="1")
    assert done.returncode == 1
    assert "The ViT-B-32 weights are not installed: the Hugging Face hub is switched off here" in done.stderr
    assert "Air-gapped install" in done.stderr and "Air-gapped install" in README


def test_make_run_serves_without_debug():
    planned = subprocess.run(["make", "-n", "-B", "run"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "manage.py serve" in planned and "manage.py fetch_clip_weights --if-reachable" in planned
    assert "DEBUG" not in planned  # the 404 page would list the URL patterns
