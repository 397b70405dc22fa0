import sqlite3
import time
from pathlib import Path

import numpy as np

from analysis.bench.processes import Site, free_port, stop
from tests.images import save, scene


def run_row(data) -> dict:
    with sqlite3.connect(data / "db.sqlite3") as db:
        db.row_factory = sqlite3.Row
        return dict(
            db.execute("select status, stage, stage_done, item_count, duplicate_count from analysis_run").fetchone()
        )


def processes_of(data) -> list[int]:
    """Processes started for this data folder: the server and its reading processes inherit DATA_DIR."""
    marker = f"DATA_DIR={data}".encode() + b"\0"
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes():
                found.append(int(environ.parent.name))
        except OSError:
            continue  # ended meanwhile, or not ours to read
    return found


def wait_for(data, condition, seconds: float) -> dict:
    """The run's row once `condition` holds; fails if the run stands still for `seconds` before that, so that a
    busy machine's slower reading is not taken for a stuck run."""
    deadline, progress = time.monotonic() + seconds, None
    while not condition(row := run_row(data)):
        if (row["status"], row["stage"], row["stage_done"]) != progress:
            deadline, progress = time.monotonic() + seconds, (row["status"], row["stage"], row["stage_done"])
        assert time.monotonic() < deadline, row
        time.sleep(0.1)
    return row


def test_a_run_cut_off_by_a_killed_server_is_finished_after_the_restart(tmp_path):
    """kill -9 in the middle of reading, start again: the run completes, once, with the right result."""
    folder = tmp_path / "figures"
    for seed in range(30):
        save(scene(seed, 800, 600), folder / f"figure_{seed:02}.png")
    save(np.rot90(scene(3, 800, 600)), folder / "figure_03_turned.png")
    data = tmp_path / "data"
    data.mkdir()
    site = Site(data).migrate()
    site.create_run(folder)

    port = free_port()
    server = site.serve(port)
    try:
        wait_for(data, lambda row: row["status"] == "running" and row["stage_done"] >= 2, 60)
    finally:
        server.kill()
        server.wait(10)
    assert run_row(data)["status"] == "running"  # nobody is left to finish it
    deadline = time.monotonic() + 10
    while orphans := processes_of(data):
        assert time.monotonic() < deadline, f"reading processes outlived their server: {orphans}"
        time.sleep(0.2)

    server = site.serve(port)
    try:
        row = wait_for(data, lambda row: row["status"] not in ("queued", "running"), 120)
    finally:
        stop(server)
    assert row["status"] == "done"
    assert (row["item_count"], row["duplicate_count"]) == (31, 1)
    with sqlite3.connect(data / "db.sqlite3") as db:
        assert db.execute("select count(*) from analysis_item").fetchone() == (31,)
