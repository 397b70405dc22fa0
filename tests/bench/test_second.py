"""The second benchmark generator: deterministic, its truth recorded, a growth set that grows by extension."""

from pathlib import Path

import numpy as np

from analysis.bench.panels import panels_found
from analysis.bench.second.charts import KINDS, chart, style
from analysis.bench.second.edits import COMBINED, EDITS, Layout, edit, figure, layout
from analysis.bench.second.lab import LAB_KINDS, lab_picture, lab_style
from analysis.bench.second.sets import growth_entry, growth_set


def test_every_chart_kind_draws_in_its_style_and_two_draws_differ_only_in_data():
    for kind in KINDS:
        rng = np.random.default_rng(1)
        look = style(rng, kind)
        first, second = chart(rng, look), chart(rng, look)
        assert first.shape == second.shape and first.dtype == np.uint8
        assert not np.array_equal(first, second)


def test_every_lab_kind_draws_a_picture():
    for kind in LAB_KINDS:
        rng = np.random.default_rng(2)
        picture = lab_picture(rng, lab_style(rng, kind))
        assert picture.ndim == 3 and picture.shape[2] == 3 and picture.std() > 5


def test_every_edit_and_combination_gives_a_picture():
    rng = np.random.default_rng(3)
    picture = lab_picture(rng, lab_style(rng, "cells"))
    for name in (*EDITS, *COMBINED):
        edited = edit(picture, name, rng)
        assert edited.ndim == 3 and edited.dtype == np.uint8, name
    assert edit(picture, "half_turn", rng)[0, 0].tolist() == picture[-1, -1].tolist()


def test_a_figure_puts_its_pictures_in_reading_order_in_a_grid():
    rng = np.random.default_rng(4)
    pictures = [np.full((100, 100, 3), value, np.uint8) for value in (0, 60, 120, 180)]
    grid = layout(rng)
    grid = type(grid)(rows=2, columns=2, gutter=10, frame=False, letters="none")
    drawn, boxes = figure(pictures, grid, 100, rng)
    # each cell's middle holds its picture, in reading order
    middles = [drawn[y, x, 0] for y, x in ((56, 56), (56, 166), (166, 56), (166, 166))]
    assert middles == [0, 60, 120, 180]
    assert boxes == [(10, 10, 110, 110), (120, 10, 220, 110), (10, 120, 110, 220), (120, 120, 220, 220)]
    assert [drawn[y0, x0, 0] for x0, y0, _, _ in boxes] == [0, 60, 120, 180]


def test_the_growth_set_is_deterministic_and_a_smaller_set_starts_a_larger_one(tmp_path: Path):
    small = growth_set(tmp_path / "a", 30, seed=5, processes=1)
    large = growth_set(tmp_path / "b", 60, seed=5, processes=1)
    assert [e.name for e in large.entries[:30]] == [e.name for e in small.entries]
    for entry in small.entries:
        assert (small.root / entry.name).read_bytes() == (large.root / entry.name).read_bytes()
    again = growth_set(tmp_path / "a", 30, seed=5, processes=1)  # nothing is drawn again
    assert [e.name for e in again.entries] == [e.name for e in small.entries]


def test_a_growth_copy_shares_its_source_family_and_style():
    entry, _ = growth_entry(5, 24)
    assert entry.transform != "original"
    sources = [growth_entry(5, index)[0] for index in range(24)]
    source = next(s for s in sources if s.families == entry.families)
    assert source.look_alike == entry.look_alike and source.transform == "original"


def test_the_growth_run_counts_look_alike_pairs_of_one_style_from_different_originals():
    from analysis.bench.dataset import Entry
    from analysis.bench.growth import _look_alike_pairs

    def entry(name, family, style):
        return Entry(name, {family}, "original", style)

    pictures = [entry("a", "f1", "chart_0"), entry("b", "f2", "chart_0"), entry("c", "f1", "chart_0")]
    pictures += [entry("d", "f3", "blot_1"), entry("e", "f4", "chart_1")]
    # a-b and b-c are look-alikes; a-c share an original; styles and kinds apart
    assert dict(_look_alike_pairs(pictures)) == {"chart": 2, "blot": 0}
    kept = [entry("k", "f1", "chart_0"), entry("m", "f9", "chart_0")]
    assert _look_alike_pairs(pictures[:2], kept)["chart"] == 3  # a-m, b-k, b-m


def test_the_growth_run_reports_false_duplicates_per_kind_and_copies_found_inside_one_picture(capsys):
    from analysis.bench.dataset import Dataset, Entry
    from analysis.bench.growth import _report
    from analysis.engine.pipeline import DUPLICATE, Item, Pair, Result

    entries = [
        Entry("a.png", {"f1"}, "original", "chart_0"),
        Entry("b.png", {"f2"}, "original", "chart_0"),
        Entry("c.jpg", {"f1"}, "noise", "chart_0"),
        Entry("d.png", {"f3"}, "original", "blot_0"),
    ]
    items = [Item(entry.name, (100, 100), 50) for entry in entries]
    pairs = [
        Pair(0, 2, None, 40, DUPLICATE, None, 0.99),  # a copy found
        Pair(0, 1, None, 30, DUPLICATE, None, 0.95),  # two charts of one style: false
        Pair(3, 3, None, 9, DUPLICATE, None, 0.6),  # a blot "copied inside itself": false
    ]
    result = Result(items, [], pairs, [], None, {})
    _report(4, result, Dataset(Path("."), entries), 1.0, {"chart": 2, "blot": 0, "cells": 0})
    rows = {line.split()[1]: line.split() for line in capsys.readouterr().out.splitlines()}
    assert rows["chart"][2:6] == ["2", "1", "500000.00", "0"] and rows["chart"][6] == "1/1"
    assert rows["blot"][2:6] == ["0", "0", "0.00", "1"]
    assert rows["cells"][2:6] == ["0", "0", "0.00", "0"]


def test_the_panel_benchmark_counts_a_panel_found_only_where_the_reader_gives_its_box(tmp_path: Path):
    rng = np.random.default_rng(6)
    look = lab_style(rng, "histology")
    pictures = [lab_picture(rng, look) for _ in range(3)]
    apart, placed = figure(pictures, Layout(1, 3, 24, False, "none"), 300, rng)
    assert panels_found(apart, placed, 92, tmp_path) == [True, True, True]
    # set edge to edge with neither gutter nor frame, the pictures are one to the reader
    touching, placed = figure(pictures, Layout(1, 3, 0, False, "none"), 300, rng)
    assert panels_found(touching, placed, 92, tmp_path) == [False, False, False]
