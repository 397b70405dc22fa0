import csv
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from tests.images import save, scene


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    image = scene(31, 640, 480)
    save(image, tmp_path / "in" / "a" / "fig1.png")
    save(np.rot90(image, 2), tmp_path / "in" / "b" / "fig1.png")
    save(scene(32), tmp_path / "in" / "b" / "other.png")
    (tmp_path / "in" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    return tmp_path / "in"


def test_it_writes_the_csv_and_prints_a_summary(folder: Path, tmp_path: Path, capsys):
    out = tmp_path / "pairs.csv"
    call_command("find_duplicates", str(folder), "--csv", str(out), "--no-clip", "--workers", "1")
    printed = capsys.readouterr()
    assert "items: 3 from 4 files, 1 skipped" in printed.out
    assert "skipped broken.jpg: not a readable image" in printed.out
    assert "semantic ranking turned off" in printed.out
    assert "duplicates: 1, similar: 0, groups: 1" in printed.out
    assert "group 1: a/fig1.png, b/fig1.png" in printed.out
    assert "Reading files" in printed.err and "SIFT verification" in printed.err

    with out.open() as lines:
        rows = list(csv.DictReader(lines))
    assert rows[0]["image1"] == "a/fig1.png" and rows[0]["image2"] == "b/fig1.png"
    assert rows[0]["verdict"] == "duplicate"
    assert float(rows[0]["confidence"]) > 0.9
    assert rows[0]["transform"] == "rotated 180°, 1x"
    assert rows[0]["clip_score"] == ""
    assert int(rows[0]["local_matches"]) > 50


def test_it_fails_clearly_when_nothing_can_be_read(tmp_path: Path):
    (tmp_path / "junk.png").write_text("junk")
    with pytest.raises(CommandError, match="none of the 1 files could be read .*junk.png: not a readable image"):
        call_command("find_duplicates", str(tmp_path), "--csv", str(tmp_path / "out.csv"), "--no-clip")


def test_it_fails_clearly_when_the_paths_hold_no_files(tmp_path: Path):
    with pytest.raises(CommandError, match="nothing to analyse"):
        call_command("find_duplicates", str(tmp_path / "missing"), "--csv", str(tmp_path / "out.csv"))


def test_without_weights_it_reports_semantic_ranking_unavailable(folder: Path, tmp_path: Path, capsys):
    out = tmp_path / "pairs.csv"
    missing = tmp_path / "weights.pt"
    call_command("find_duplicates", str(folder), "--csv", str(out), "--weights", str(missing), "--workers", "1")
    assert "semantic ranking unavailable: the CLIP weights file" in capsys.readouterr().out
    assert out.exists()


def test_it_keeps_pictures_in_a_library_and_a_later_call_finds_copies_of_them(folder: Path, tmp_path: Path, capsys):
    library, out = tmp_path / "library", tmp_path / "pairs.csv"
    call_command("find_duplicates", str(folder), "--csv", str(out), "--no-clip", "--library", str(library), "--keep")
    assert f"kept 3 pictures in {library}, which holds 3" in capsys.readouterr().out
    save(scene(32)[:, ::-1], tmp_path / "later" / "mirrored.png")
    call_command("find_duplicates", str(tmp_path / "later"), "--csv", str(out), "--no-clip", "--library", str(library))
    printed = capsys.readouterr().out
    assert "items: 1 from 1 files" in printed and "group 1: mirrored.png, library:b/other.png" in printed
    with out.open() as lines:
        [row] = list(csv.DictReader(lines))
    assert (row["image1"], row["image2"], row["verdict"]) == ("mirrored.png", "library:b/other.png", "duplicate")


def test_keeping_needs_a_library(folder: Path, tmp_path: Path):
    with pytest.raises(CommandError, match="--keep needs --library"):
        call_command("find_duplicates", str(folder), "--csv", str(tmp_path / "out.csv"), "--keep")


def test_file_names_a_spreadsheet_would_run_are_written_as_text(tmp_path: Path):
    image = scene(33, 640, 480)
    save(image, tmp_path / "in" / "=HYPERLINK(1).png")
    save(image[:, ::-1], tmp_path / "in" / "@SUM(1+1).png")
    out = tmp_path / "pairs.csv"
    call_command("find_duplicates", str(tmp_path / "in"), "--csv", str(out), "--no-clip", "--workers", "1")
    row = next(csv.DictReader(out.read_text().splitlines()))
    assert {row["image1"], row["image2"]} == {"'=HYPERLINK(1).png", "'@SUM(1+1).png"}
    assert row["verdict"] == "duplicate"
