"""The benchmark's side-by-side timing and the all-pairs recipe it is compared with."""

import subprocess
from pathlib import Path

import cv2
import numpy as np

from analysis.bench.__main__ import checkout, timed
from analysis.bench.all_pairs import is_duplicate, read
from analysis.bench.processes import ROOT
from analysis.engine.sources import collect_files
from tests.images import save, scene


def pictures(folder: Path) -> Path:
    original = scene(31, 640, 480)
    save(original, folder / "original.png")
    save(np.rot90(original)[40:400, 30:420], folder / "turned_crop.png")
    save(scene(32, 640, 480), folder / "other.png")
    return folder


def test_another_version_is_unpacked_and_timed_in_a_process_of_its_own(tmp_path: Path):
    folder = pictures(tmp_path / "pictures")
    old = checkout("HEAD", tmp_path / "head")
    committed = subprocess.run(
        ["git", "-C", str(ROOT), "show", "HEAD:analysis/engine/pipeline.py"], capture_output=True, check=True
    ).stdout
    assert (old / "analysis" / "engine" / "pipeline.py").read_bytes() == committed
    for code in (old, ROOT):
        found = timed(code, folder, 1)
        assert found["duplicates"] == ["original.png ~ turned_crop.png"]
        assert found["items"] == 3 and found["seconds"] > 0 and "reading" in found["timings"]


def test_the_all_pairs_recipe_calls_a_copy_a_duplicate_and_another_picture_not(tmp_path: Path):
    files, _ = collect_files([pictures(tmp_path / "pictures")])
    names, features = read(files)
    matcher = cv2.BFMatcher(cv2.NORM_L2)
    at = {name: index for index, name in enumerate(names)}
    assert is_duplicate(features[at["original.png"]], features[at["turned_crop.png"]], matcher)
    assert not is_duplicate(features[at["original.png"]], features[at["other.png"]], matcher)
