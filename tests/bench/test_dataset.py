from pathlib import Path

import numpy as np
from PIL import Image

from analysis.bench.dataset import Builder, blot, cloned, derive, fluorescence, multi_panel, plot, scaling_set


def test_generation_is_deterministic(tmp_path: Path):
    one = scaling_set(tmp_path / "one", 12, seed=3, size=300)
    two = scaling_set(tmp_path / "two", 12, seed=3, size=300)
    assert [e.name for e in one.entries] == [e.name for e in two.entries]
    for entry in one.entries:
        assert (one.root / entry.name).read_bytes() == (two.root / entry.name).read_bytes()


def test_scaling_set_has_the_requested_size(tmp_path: Path):
    dataset = scaling_set(tmp_path, 10, size=300)
    assert len(dataset.entries) == 10
    assert len(list(tmp_path.rglob("*.*"))) == 10


def test_derived_copies_share_their_family_and_pdf_pages_keep_their_own(tmp_path: Path):
    builder = Builder(tmp_path, seed=1)
    builder.family("f", fluorescence(builder.rng, 300), "fluorescence", ("crop", "panel"))
    builder.pdf("p.pdf", [(multi_panel([blot(builder.rng, 300)], 200), {"g"}), (plot(builder.rng, 300), {"h"})])
    dataset = builder.dataset
    assert dataset.item_families("f/crop.jpg") == {"f"}
    assert dataset.item_families("p.pdf#page=1&image=1") == {"g"}
    assert dataset.item_families("p.pdf#page=2") == {"h"}


def test_crops_overlap_the_original(tmp_path: Path):
    builder = Builder(tmp_path, seed=2)
    image = fluorescence(builder.rng, 400)
    crop = derive(image, "crop", builder.rng)
    assert 0.55 * image.shape[0] <= crop.shape[0] <= 0.8 * image.shape[0]


def test_a_panel_figure_records_which_panel_holds_the_original(tmp_path: Path):
    builder = Builder(tmp_path, seed=4)
    original = fluorescence(builder.rng, 420)[:420, :420]
    builder.family("f", original, "fluorescence", ("panel",))
    entry = builder.dataset.entries[-1]
    assert sorted(len(families) for families in entry.panel_families) == [0, 0, 0, 1]
    where = next(k for k, families in enumerate(entry.panel_families) if families == {"f"})
    figure = np.asarray(Image.open(tmp_path / entry.name).convert("RGB")).astype(int)
    top, left = 40 + (where // 2) * 460, 40 + (where % 2) * 460
    assert np.abs(figure[top : top + 420, left : left + 420] - original).mean() < 4  # JPEG-encoded


def test_a_cloned_picture_holds_one_region_twice():
    image = fluorescence(np.random.default_rng(5), 500)
    copy = cloned(image, np.random.default_rng(6))
    changed = np.argwhere((copy != image).any(axis=2))
    (y0, x0), (y1, x1) = changed.min(axis=0), changed.max(axis=0) + 1
    pasted = copy[y0:y1, x0:x1].astype(int)
    height, width = pasted.shape[:2]
    found = [
        (y, x)
        for y in range(image.shape[0] - height + 1)
        for x in range(image.shape[1] // 2 - width + 1)
        for view in (pasted, pasted[:, ::-1])
        if np.array_equal(image[y : y + height, x : x + width], view)
    ]
    assert found
