from pathlib import Path

from analysis.bench.dataset import Builder, blot, derive, fluorescence, multi_panel, plot, scaling_set


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
    crop = derive(image, "crop", builder.rng, builder.filler)
    assert 0.55 * image.shape[0] <= crop.shape[0] <= 0.8 * image.shape[0]
