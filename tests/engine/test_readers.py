"""Reading processes that are watched: a lost reader costs only its file."""

import os
import signal
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from analysis.engine import readers
from analysis.engine.pipeline import Cancelled, Options, find_duplicates
from analysis.engine.sources import Limits, collect_files
from tests.images import pdf_with_images, save, scene


def readers_marked(marker: str) -> list[int]:
    """This process's reading processes: spawned children that carry the marker in their environment."""
    found = []
    for folder in Path("/proc").glob("[0-9]*"):
        try:
            child = f"PPid:\t{os.getpid()}\n" in (folder / "status").read_text()
            reader = b"spawn_main" in (folder / "cmdline").read_bytes()  # not the resource tracker
            if child and reader and marker.encode() in (folder / "environ").read_bytes():
                found.append(int(folder.name))
        except OSError:
            continue  # ended meanwhile
    return found


@pytest.fixture
def big_picture(tmp_path) -> Path:
    """90 megapixels of nothing: under the pixel cap, but slow and large to decode."""
    return save(np.zeros((9500, 9500, 3), np.uint8), tmp_path / "huge" / "big.png")


def test_a_reader_that_dies_costs_only_its_file(tmp_path, monkeypatch):
    save(scene(0, 200, 150), tmp_path / "figures" / "figure_00.png")
    for seed in range(1, 8):
        save(scene(seed, 2400, 1800), tmp_path / "figures" / f"figure_{seed:02}.png")
    marker = f"DEEPCHECKER_TEST_READER={uuid.uuid4().hex}"
    monkeypatch.setenv(*marker.split("="))
    started = []
    monkeypatch.setattr(readers._Reader, "give", record(readers._Reader.give, started))
    killed = []

    def kill_the_readers(stage: str, done: int, total: int) -> None:
        # when the small first file is read, its reader is idle and the other one has had figure_01 for
        # milliseconds of its seconds: killed once it has said it has the file, however slowly it started
        if stage == "reading" and done == 1:
            second = next(reader for reader in started if reader.task == 1)
            assert second.started is not None or second.connection.poll(60)
            for reader in readers_marked(marker):
                os.kill(reader, signal.SIGKILL)
                killed.append(reader)

    files, _ = collect_files([tmp_path / "figures"])
    result = find_duplicates(files, Options(use_clip=False, workers=2), kill_the_readers)
    assert len(killed) == 2
    assert len(result.items) == 7, result.skipped
    assert [(s.name, s.reason.split(";")[0]) for s in result.skipped] == [
        ("figure_01.png", "the reader stopped while reading this file (exit code -9)")
    ]
    assert not readers_marked(marker)  # every reader ended with the run


def record(give, given: list):
    """`_Reader.give`, noting each reader handed a file."""

    def recording(reader, task, source):
        given.append(reader)
        give(reader, task, source)

    return recording


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        # the big picture takes 2-3 s on a quiet machine, the small one milliseconds: a busy machine slows both
        (Limits(read_timeout_seconds=1.0), "reading took longer than 1 s; the file is too large or malformed"),
        (Limits(reader_memory_mb=400), "needs more memory than a reader may use (400 MB)"),
    ],
    ids=["time", "memory"],
)
def test_a_file_beyond_a_readers_limits_is_skipped_with_the_reason(tmp_path, big_picture, limits, reason):
    save(scene(1, 64, 48), tmp_path / "huge" / "small.png")  # read in milliseconds, however busy the machine
    files, _ = collect_files([tmp_path / "huge"])
    result = find_duplicates(files, Options(use_clip=False, workers=2, limits=limits))
    assert [item.name for item in result.items] == ["small.png"]
    assert [(s.name, s.reason) for s in result.skipped] == [("big.png", reason)]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_single_file_is_read_in_a_watched_reader_too(big_picture, workers):
    # alone, with one reader or several: still under the reader's memory cap, not in the caller's process
    files, _ = collect_files([big_picture])
    options = Options(use_clip=False, workers=workers, limits=Limits(reader_memory_mb=400))
    result = find_duplicates(files, options)
    assert result.items == []
    assert [(s.name, s.reason) for s in result.skipped] == [
        ("big.png", "needs more memory than a reader may use (400 MB)")
    ]


def test_cancelling_ends_the_readers_at_once(tmp_path, monkeypatch):
    for seed in range(8):
        save(scene(seed, 1600, 1200), tmp_path / "figures" / f"figure_{seed}.png")
    marker = f"DEEPCHECKER_TEST_READER={uuid.uuid4().hex}"
    monkeypatch.setenv(*marker.split("="))
    files, _ = collect_files([tmp_path / "figures"])
    stop = threading.Event()

    def stop_after_one(stage: str, done: int, total: int) -> None:
        if done >= 1:
            stop.set()

    started = time.monotonic()
    with pytest.raises(Cancelled):
        find_duplicates(files, Options(use_clip=False, workers=2), stop_after_one, stop.is_set)
    assert time.monotonic() - started < 30
    assert not readers_marked(marker)


def test_a_run_compares_at_most_its_cap_of_pictures_and_names_the_rest(tmp_path):
    for seed in range(3):
        save(scene(seed, 320, 240), tmp_path / "figures" / f"figure_{seed}.png")
    pdf_with_images(tmp_path / "figures" / "paper.pdf", [scene(5, 320, 240)])  # a page and its image: 2 pictures
    save(scene(6, 320, 240), tmp_path / "figures" / "zz_last.png")
    files, _ = collect_files([tmp_path / "figures"])
    result = find_duplicates(files, Options(use_clip=False, workers=1, limits=Limits(max_items_per_run=4)))
    assert [item.name for item in result.items] == ["figure_0.png", "figure_1.png", "figure_2.png", "paper.pdf#page=1"]
    reason = "not read: the analysis already holds 4 pictures, the most one analysis compares; analyse the rest apart"
    assert [(s.name, s.reason) for s in result.skipped] == [
        ("paper.pdf#page=1&image=1", reason),
        ("zz_last.png", reason),
    ]
