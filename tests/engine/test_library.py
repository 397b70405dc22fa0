import multiprocessing
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from analysis.engine.library import Library, LibraryOptions
from analysis.engine.pipeline import DUPLICATE, Options, Result, find_duplicates
from analysis.engine.sources import SourceFile
from tests.images import save, scene

OFFLINE = Options(use_clip=False, workers=1)
# lists of a few dozen vectors: a small library searched as a large one is, visiting a few of many lists
SMALL_LISTS = LibraryOptions(vectors_per_list=64, probes=4)


def analyse(folder: Path, library: Library | None = None) -> Result:
    files = [SourceFile(str(path), path.name) for path in sorted(folder.glob("*.png"))]
    return find_duplicates(files, OFFLINE, library=library)


def keep(library: Library, result: Result, prefix: str) -> dict[str, str]:
    """Keeps a run's items under keys made from the prefix; returns each key's item name."""
    for number, entry in enumerate(result.kept):
        entry.key = f"{prefix}{number:04d}"
    library.add(result.kept)
    return {entry.key: item.name for entry, item in zip(result.kept, result.items, strict=True)}


def figure_with(picture: np.ndarray, other: np.ndarray) -> np.ndarray:
    figure = np.full((600, 1100, 3), 255, np.uint8)
    figure[40:280, 40:360] = cv2.resize(picture, (320, 240), interpolation=cv2.INTER_AREA)
    figure[40:400, 560:1040] = other
    return figure


@pytest.fixture
def earlier(tmp_path: Path) -> Path:
    """An earlier upload: ten pictures, one of them a figure of two panels."""
    folder = tmp_path / "earlier"
    for seed in range(9):
        save(scene(100 + seed, 640, 480), folder / f"old{seed}.png")
    save(figure_with(scene(150, 640, 480), scene(151)), folder / "old_figure.png")
    return folder


@pytest.fixture
def library(tmp_path: Path, earlier: Path) -> tuple[Library, dict[str, str]]:
    library = Library(tmp_path / "library", SMALL_LISTS)
    return library, keep(library, analyse(earlier), "a")


def library_findings(result: Result) -> set[tuple[str, str]]:
    """(new place, library place) of each duplicate between the run and its library."""
    own = len(result.own_items)
    return {
        (result.place_name(pair.places[0]), result.place_name(pair.places[1]))
        for pair in result.duplicates
        if pair.second >= own
    }


def test_a_new_run_finds_its_copies_of_kept_pictures_down_to_the_panel(tmp_path: Path, library):
    library, names = library
    new = tmp_path / "new"
    save(np.rot90(scene(103, 640, 480))[50:400, 60:420], new / "turned_crop.png")
    save(figure_with(scene(105, 640, 480), scene(300)), new / "figure.png")
    save(scene(150, 640, 480)[:, ::-1], new / "mirrored_panel.png")
    save(scene(301, 640, 480), new / "fresh.png")

    result = analyse(new, library)

    assert library_findings(result) == {
        ("turned_crop.png", "library:old3.png"),
        ("figure.png#panel=1", "library:old5.png"),
        ("mirrored_panel.png", "library:old_figure.png#panel=1"),
    }
    kept = {item.name: item.library for item in result.items if item.library}
    assert {names[key] for key in kept.values()} == set(kept)
    # the files' own pairs are all listed; entries only where they are copies
    assert all(pair.verdict == DUPLICATE for pair in result.pairs if pair.second >= len(result.own_items))
    assert [group for group in result.groups if any(i >= len(result.own_items) for i, _ in group)]


def test_unrelated_pictures_find_nothing_in_the_library(tmp_path: Path, library):
    library, _ = library
    new = tmp_path / "new"
    for seed in range(4):
        save(scene(400 + seed, 640, 480), new / f"new{seed}.png")
    result = analyse(new, library)
    assert library_findings(result) == set()
    assert result.timings["library"] > 0


def test_what_a_run_keeps_is_its_own_items_with_their_panels(library, earlier: Path):
    library, names = library
    assert library.size == 10
    entry = library.load(next(key for key, name in names.items() if name == "old_figure.png"))
    assert [unit.name for unit in entry.units] == ["old_figure.png", "old_figure.png#panel=1", "old_figure.png#panel=2"]
    panels = [(40, 40, 360, 280), (560, 40, 1040, 400)]
    assert entry.units[0].panels == [pytest.approx(box, abs=3) for box in panels]
    assert entry.units[1].descriptors.dtype == np.uint8 and len(entry.units[1].descriptors) > 100
    assert all(unit.check_tone.shape == unit.check_gray.shape for unit in entry.units)


def test_entries_kept_before_tones_were_still_find_their_copies(tmp_path: Path, earlier: Path):
    library = Library(tmp_path / "library", SMALL_LISTS)
    result = analyse(earlier)
    for entry in result.kept:
        entry.units = [replace(unit, check_tone=None) for unit in entry.units]
    names = keep(library, result, "a")
    assert library.load(next(iter(names))).units[0].check_tone is None
    new = tmp_path / "new"
    save(np.rot90(scene(103, 640, 480))[50:400, 60:420], new / "turned_crop.png")
    assert library_findings(analyse(new, library)) == {("turned_crop.png", "library:old3.png")}


def test_removed_entries_are_not_found_again(tmp_path: Path, library):
    library, names = library
    new = tmp_path / "new"
    save(scene(103, 640, 480)[::-1], new / "flipped.png")
    assert library_findings(analyse(new, library)) == {("flipped.png", "library:old3.png")}
    old3 = next(key for key, name in names.items() if name == "old3.png")

    library.remove([old3])

    assert library.size == 9
    assert not library.entry_path(old3).exists()
    assert library_findings(analyse(new, library)) == set()


def test_an_entry_removed_while_a_run_searches_is_passed_over(tmp_path: Path, library):
    library, names = library
    new = tmp_path / "new"
    save(scene(104, 640, 480)[::-1], new / "flipped.png")
    old4 = next(key for key, name in names.items() if name == "old4.png")
    library.entry_path(old4).unlink()  # as a removal does, after this run's search found the entry
    result = analyse(new, library)
    assert library_findings(result) == set()
    assert "old4.png" not in [item.name for item in result.items]


def test_keeping_a_key_again_replaces_its_entry(library):
    library, names = library
    key = next(iter(names))
    entry = library.load(key)
    library.add([entry])
    assert library.size == 10
    assert library.entry_keys() == sorted(names)


def test_the_library_is_read_from_its_folder_by_a_new_instance(tmp_path: Path, library):
    library, _ = library
    new = tmp_path / "new"
    save(cv2.resize(scene(107, 640, 480), (320, 240), interpolation=cv2.INTER_AREA), new / "small.png")
    reopened = Library(library.folder, SMALL_LISTS)
    assert reopened.size == 10
    assert library_findings(analyse(new, reopened)) == {("small.png", "library:old7.png")}


def test_its_lists_are_trained_again_as_it_grows_and_it_still_finds_copies(tmp_path: Path, earlier: Path):
    library = Library(tmp_path / "library", SMALL_LISTS)
    keep(library, analyse(earlier), "a")
    trained, lists = library.trained("descriptors"), library.lists("descriptors")
    more = tmp_path / "more"
    for seed in range(16):
        save(scene(500 + seed, 640, 480), more / f"more{seed}.png")
    keep(library, analyse(more), "b")
    assert library.trained("descriptors") > 2 * trained  # grown past twice what it was trained on
    assert library.vectors("descriptors") == library.trained("descriptors")
    assert library.lists("descriptors") > 2 * lists

    new = tmp_path / "new"
    save(np.rot90(scene(102, 640, 480), 2), new / "upside_down.png")
    save(scene(507, 640, 480)[60:420, 80:560], new / "crop.png")
    assert library_findings(analyse(new, library)) == {
        ("upside_down.png", "library:old2.png"),
        ("crop.png", "library:more7.png"),
    }


def test_new_entries_wait_in_a_small_recent_index_until_it_holds_a_quarter_of_the_main_one(tmp_path: Path, library):
    library, _ = library
    recent = library.folder / "descriptors-recent.faiss"
    main = (library.folder / "descriptors-main.faiss").stat().st_mtime_ns
    lists = library.lists("descriptors")
    more = tmp_path / "more"
    save(scene(600, 640, 480), more / "more0.png")
    keep(library, analyse(more), "b")
    assert recent.exists() and (library.folder / "descriptors-main.faiss").stat().st_mtime_ns == main

    new = tmp_path / "new"
    save(scene(600, 640, 480)[:, ::-1], new / "mirrored.png")
    assert library_findings(analyse(new, library)) == {("mirrored.png", "library:more0.png")}
    library.remove(["b0000"])
    assert library_findings(analyse(new, library)) == set()

    for seed in range(1, 5):
        save(scene(600 + seed, 640, 480), more / f"more{seed}.png")
    keep(library, analyse(more), "c")
    assert not recent.exists()
    assert library.lists("descriptors") == lists  # merged into the lists it had, not trained again
    save(scene(603, 640, 480)[::-1], new / "mirrored.png")
    assert library_findings(analyse(new, library)) == {("mirrored.png", "library:more3.png")}


def test_a_search_visits_a_fixed_number_of_lists_not_the_whole_index(library):
    library, _ = library
    lists = library.lists("descriptors")
    assert lists >= 4 * library.options.probes
    assert library.vectors("descriptors") // lists == library.options.vectors_per_list


def _keep_in_process(folder: str, library_folder: str, prefix: str) -> None:
    keep(Library(library_folder), analyse(Path(folder)), prefix)


def test_two_processes_keeping_at_once_both_keep_everything(tmp_path: Path, earlier: Path):
    folder = tmp_path / "library"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_keep_in_process, args=(str(earlier), str(folder), p)) for p in "xy"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    library = Library(folder)
    assert library.size == 20
    assert {key[0] for key in library.entry_keys()} == {"x", "y"}


def test_keys_are_letters_and_digits():
    with pytest.raises(ValueError, match="letters and digits"):
        Library("/nonexistent", LibraryOptions()).entry_path("../escape")
