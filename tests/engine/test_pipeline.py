import csv
import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from analysis.engine.pipeline import DUPLICATE, Cancelled, Options, find_duplicates
from analysis.engine.report import CSV_COLUMNS, write_csv
from analysis.engine.sources import collect_files
from tests.images import pdf_with_images, png_header_only, save, scene

OFFLINE = Options(use_clip=False, workers=1)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    original = scene(21, 640, 480)
    save(original, tmp_path / "figs" / "original.png")
    save(np.rot90(original), tmp_path / "figs" / "rotated.jpg", quality=85)
    save(original[:, ::-1][60:420, 100:560], tmp_path / "other" / "flipped_crop.png")
    save(scene(22), tmp_path / "other" / "unrelated.png")
    save(scene(23), tmp_path / "figs" / "also_unrelated.jpg")
    figure = np.full((600, 1100, 3), 255, np.uint8)
    figure[40:280, 40:360] = cv2.resize(original, (320, 240), interpolation=cv2.INTER_AREA)
    figure[40:400, 560:1040] = scene(24)
    save(figure, tmp_path / "figure.png")
    pdf_with_images(tmp_path / "paper.pdf", [scene(25)])
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "page.jpg").write_text("<html>not an image</html>")
    png_header_only(tmp_path / "bomb.png", 30000, 30000)
    return tmp_path


def run(folder: Path, options: Options = OFFLINE, **kwargs):
    files, _ = collect_files([folder])
    return find_duplicates(files, options, **kwargs)


def names_of(result, pairs):
    return {frozenset(result.place_name(place) for place in p.places) for p in pairs}


def test_it_finds_the_copies_and_groups_them_naming_the_panel_of_a_figure(folder: Path):
    result = run(folder)
    expected = {"figs/original.png", "figs/rotated.jpg", "other/flipped_crop.png", "figure.png#panel=1"}
    duplicates = names_of(result, result.duplicates)
    assert duplicates == {frozenset((a, b)) for a in expected for b in expected if a < b}
    assert [{result.place_name(place) for place in group} for group in result.groups] == [expected]
    figure = next(item for item in result.items if item.name == "figure.png")
    assert figure.panels == [pytest.approx((40, 40, 360, 280), abs=3), pytest.approx((560, 40, 1040, 400), abs=3)]


def test_it_skips_bad_files_with_their_reasons_and_reads_the_rest(folder: Path):
    result = run(folder)
    reasons = {s.name: s.reason for s in result.skipped}
    assert set(reasons) == {"empty.jpg", "page.jpg", "bomb.png"}
    assert reasons["empty.jpg"] == "empty file (0 bytes)"
    assert reasons["bomb.png"].startswith("image too large: 30000x30000")
    assert {item.name for item in result.items} >= {"paper.pdf#page=1", "paper.pdf#page=1&image=1"}


def test_every_verdict_carries_its_evidence(folder: Path):
    result = run(folder)
    pair = next(
        p
        for p in result.duplicates
        if {result.items[p.first].name, result.items[p.second].name} == {"figs/original.png", "other/flipped_crop.png"}
    )
    assert pair.local_matches > 30
    assert pair.transform == "flipped horizontally, 1x"
    x0, y0, x1, y1 = pair.alignment.region1
    assert (x1 - x0) * (y1 - y0) > 0.3
    assert len(pair.alignment.points1) == pair.local_matches


def test_a_panel_in_a_figure_is_located_in_the_figure(folder: Path):
    result = run(folder)
    pair = next(
        p
        for p in result.duplicates
        if {result.items[p.first].name, result.items[p.second].name} == {"figs/original.png", "figure.png"}
    )
    figure_region = pair.alignment.region1 if result.items[pair.first].name == "figure.png" else pair.alignment.region2
    assert figure_region == pytest.approx((40 / 1100, 40 / 600, 360 / 1100, 280 / 600), abs=0.05)


def test_it_reports_progress_by_stage(folder: Path):
    seen = []
    run(folder, progress=lambda stage, done, total: seen.append((stage, done, total)))
    stages = list(dict.fromkeys(stage for stage, _, _ in seen))
    assert stages == ["reading", "candidates", "verifying", "grouping"]
    assert ("reading", 10, 10) in seen


def test_it_reads_in_worker_processes_and_verifies_in_threads_with_the_same_result(folder: Path):
    one = run(folder)
    two = run(folder, Options(use_clip=False, workers=2))

    def evidence(result):
        return [
            (*(result.place_name(place) for place in p.places), p.verdict, p.local_matches, p.confidence)
            for p in result.pairs
        ]

    assert names_of(one, one.duplicates) == names_of(two, two.duplicates)
    assert evidence(one) == evidence(two)


def test_it_can_be_cancelled(folder: Path):
    with pytest.raises(Cancelled):
        run(folder, cancelled=lambda: True)


def test_it_can_be_cancelled_while_verifying_in_threads(folder: Path):
    seen = []
    with pytest.raises(Cancelled):
        run(
            folder,
            Options(use_clip=False, workers=2),
            progress=lambda stage, done, total: seen.append(stage),
            cancelled=lambda: "verifying" in seen,
        )
    assert seen[-1] == "verifying" and "grouping" not in seen


def test_without_clip_weights_it_says_so_and_goes_on(folder: Path, tmp_path: Path):
    result = run(folder, Options(workers=1, clip_cache_dir=str(tmp_path)))
    assert result.clip_notice == (
        "semantic ranking unavailable: the ViT-B-32 weights are not installed; "
        "install them with `.venv/bin/python manage.py fetch_clip_weights`"
    )
    assert len(result.duplicates) == 6
    assert all(p.clip_score is None for p in result.pairs)


def test_the_csv_lists_every_flagged_pair_first(folder: Path):
    result = run(folder)
    out = io.StringIO()
    count = write_csv(result, out, top=0)
    header, *lines = csv.reader(io.StringIO(out.getvalue()))
    assert header == CSV_COLUMNS
    assert count == len(lines) == sum(p.verdict != "" for p in result.pairs)
    rows = [dict(zip(header, line, strict=True)) for line in lines]
    first = rows[0]
    assert first["pair"] == "1" and first["clip_score"] == "" and first["verdict"] == DUPLICATE
    assert float(first["confidence"]) == pytest.approx(result.pairs[0].confidence, abs=5e-4)
    assert float(first["confidence"]) > 0.9
    assert {row["kind"] for row in rows} <= {"two items", "two panels", "within one picture"}


def test_it_writes_a_thumbnail_and_a_view_of_every_item(folder: Path, tmp_path_factory):
    previews = tmp_path_factory.mktemp("previews")
    result = run(folder, Options(use_clip=False, workers=1, preview_dir=str(previews)))
    by_name = {item.name: item for item in result.items}
    assert by_name["paper.pdf#page=1"].kind == "pdf_page"
    assert by_name["paper.pdf#page=1"].page == 0
    assert by_name["figs/original.png"].kind == "image"
    for item in result.items:
        with (
            Image.open(previews / f"{item.preview}.jpg") as view,
            Image.open(previews / f"{item.preview}-thumb.jpg") as thumb,
        ):
            assert max(view.size) <= 800
            assert max(thumb.size) == 256
            # the same proportions as the item
            assert abs(view.size[0] / view.size[1] - item.original_size[0] / item.original_size[1]) < 0.02
    assert len({item.preview for item in result.items}) == len(result.items)


def test_nothing_is_reported_inside_pictures_that_hold_no_copy(folder: Path):
    assert not [p for p in run(folder).pairs if p.within]


def test_copies_inside_one_figure_are_reported_by_panel_and_inside_one_picture_by_region(tmp_path: Path):
    panels = [scene(60, 400, 300), scene(61, 400, 300), scene(62, 400, 300)]
    figure = np.full((740, 940, 3), 255, np.uint8)
    for (x, y), panel in zip(((40, 40), (500, 40), (40, 400), (500, 400)), [*panels, panels[0][:, ::-1]], strict=True):
        figure[y : y + 300, x : x + 400] = panel
    save(figure, tmp_path / "fig.png")
    cloned = scene(63, 640, 480)
    cloned[280:440, 400:600] = cloned[60:220, 40:240]
    save(cloned, tmp_path / "cloned.png")
    save(scene(64, 640, 480), tmp_path / "clean.png")

    result = run(tmp_path)
    within = {frozenset(result.place_name(place) for place in p.places): p for p in result.duplicates if p.within}
    assert set(within) == {frozenset({"fig.png#panel=1", "fig.png#panel=4"}), frozenset({"cloned.png"})}
    assert within[frozenset({"fig.png#panel=1", "fig.png#panel=4"})].transform == "flipped horizontally, 1x"
    clone = within[frozenset({"cloned.png"})].alignment
    source, copy = sorted((clone.region1, clone.region2))
    assert source == pytest.approx((40 / 640, 60 / 480, 240 / 640, 220 / 480), abs=0.06)
    assert copy == pytest.approx((400 / 640, 280 / 480, 600 / 640, 440 / 480), abs=0.06)
    # the panels are copies of each other; a region copied inside one picture groups no pictures
    assert [[result.place_name(place) for place in group] for group in result.groups] == [
        ["fig.png#panel=1", "fig.png#panel=4"]
    ]


def test_clip_alone_never_calls_two_charts_similar():
    from analysis.bench.dataset import bar_chart, schematic
    from analysis.engine.features import FeatureOptions, extract
    from analysis.engine.pipeline import SIMILAR, _verify
    from analysis.engine.sources import Decoded, ItemRef
    from analysis.engine.verify import RootSift, best_device

    def features(rgb):
        return extract(
            Decoded(ItemRef("x.png", "x.png", "image"), rgb, (rgb.shape[1], rgb.shape[0])), FeatureOptions()
        )[0]

    rng = np.random.default_rng(4)
    same_meaning = np.array([[1.0, 0.0], [1.0, 0.0]], np.float32)  # CLIP would call them the same
    for pictures, verdict in (([bar_chart(rng, 900), schematic(rng, 900)], ""), ([scene(70), scene(71)], SIMILAR)):
        units = [features(picture) for picture in pictures]
        pair = _verify(units, units, same_meaning, 0, 1, {(0, 1): None}, OFFLINE, RootSift(best_device()), 1.0)
        assert (pair.clip_score, pair.verdict) == (1.0, verdict)


def test_a_pdf_page_and_the_image_embedded_in_it_are_one_picture(tmp_path: Path):
    original = scene(41, 640, 480)
    save(np.rot90(original), tmp_path / "figure2.png")
    pdf_with_images(tmp_path / "paper.pdf", [original, scene(42)])
    result = run(tmp_path)
    names = {item.name for item in result.items}
    assert {"paper.pdf#page=1", "paper.pdf#page=1&image=1"} <= names  # both are read and compared
    assert names_of(result, result.duplicates) == {frozenset(("figure2.png", "paper.pdf#page=1&image=1"))}
    assert [{result.place_name(place) for place in group} for group in result.groups] == [
        {"figure2.png", "paper.pdf#page=1&image=1"}
    ]
