import numpy as np
import pytest
from django.core.files.base import ContentFile

from analysis.engine.pipeline import Options, find_duplicates
from analysis.engine.sources import SourceFile
from analysis.models import Group, Item, Pair, Run, Upload
from analysis.results import store_result
from tests.images import save, scene


@pytest.fixture
def run(django_user_model, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    alice = django_user_model.objects.create_user("alice", password="password")
    run = Run.objects.create(owner=alice)
    image = scene(41)
    for name, picture in (("a/fig.png", image), ("b/fig.png", np.rot90(image)), ("c.png", scene(42))):
        path = save(picture, tmp_path / "source.png")
        Upload.objects.create(run=run, name=name, size=path.stat().st_size, sha256="0" * 64).file.save(
            name, ContentFile(path.read_bytes())
        )
    Upload.objects.create(run=run, name="notes.jpg", size=5, sha256="1" * 64).file.save(
        "notes.jpg", ContentFile(b"hello")
    )
    return run


def analyse(run: Run):
    files = [SourceFile(upload.file.path, upload.name) for upload in run.uploads.all()]
    return find_duplicates(files, Options(use_clip=False, workers=1))


@pytest.mark.django_db
def test_it_stores_items_pairs_groups_and_counts(run: Run):
    store_result(run, analyse(run))
    run.refresh_from_db()
    assert (run.item_count, run.skipped_count, run.duplicate_count, run.group_count) == (3, 1, 1, 1)
    assert run.clip_notice == "semantic ranking turned off: CLIP was not run"
    assert set(run.timings) == {"reading", "clip", "candidates", "verifying", "grouping"}

    skipped = Item.objects.get(run=run, name="notes.jpg")
    assert skipped.skipped.startswith("not a readable image")
    assert skipped.upload.name == "notes.jpg"

    best = Pair.objects.filter(run=run).first()
    assert {best.first.name, best.second.name} == {"a/fig.png", "b/fig.png"}
    assert best.verdict == "duplicate"
    assert best.transform in ("rotated 90°, 1x", "rotated -90°, 1x")
    assert len(best.points1) == len(best.points2) == best.local_matches
    assert best.first.upload.name == best.first.name
    group = Group.objects.get(run=run)
    assert [member.name for member in group.members.all()] == ["a/fig.png", "b/fig.png"]


@pytest.mark.django_db
def test_it_stores_findings_at_panel_level_and_copies_inside_a_figure(run: Run, tmp_path):
    figure = np.full((400, 940, 3), 255, np.uint8)
    figure[40:340, 40:440] = scene(43, 400, 300)
    figure[40:340, 500:900] = scene(43, 400, 300)[:, ::-1]  # the same picture, flipped, beside itself
    path = save(figure, tmp_path / "figure.png")
    upload = Upload.objects.create(run=run, name="d/figure.png", size=path.stat().st_size, sha256="2" * 64)
    upload.file.save("figure.png", ContentFile(path.read_bytes()))
    save(scene(43, 400, 300), tmp_path / "panel.png")
    upload = Upload.objects.create(run=run, name="e/panel.png", size=path.stat().st_size, sha256="3" * 64)
    upload.file.save("panel.png", ContentFile((tmp_path / "panel.png").read_bytes()))

    store_result(run, analyse(run))
    figure_item = Item.objects.get(run=run, name="d/figure.png")
    assert figure_item.panels == [pytest.approx([40, 40, 440, 340], abs=2), pytest.approx([500, 40, 900, 340], abs=2)]
    names = {frozenset((pair.first_name, pair.second_name)): pair for pair in run.pairs.filter(verdict="duplicate")}
    assert names[frozenset({"d/figure.png#panel=1", "d/figure.png#panel=2"})].within
    # both panels show the picture: the pair of the two files names one of them
    across = [pair for key, pair in names.items() if "e/panel.png" in key]
    assert len(across) == 1 and not across[0].within
    assert across[0].first_name in ("d/figure.png#panel=1", "d/figure.png#panel=2")
    groups = [[member.name for member in group.members.all()] for group in run.groups.all()]
    assert ["d/figure.png#panel=1", "d/figure.png#panel=2", "e/panel.png"] in groups


@pytest.mark.django_db
def test_storing_again_replaces_the_earlier_rows(run: Run):
    result = analyse(run)
    store_result(run, result)
    counts = (Item.objects.count(), Pair.objects.count(), Group.objects.count())
    store_result(run, result)
    assert (Item.objects.count(), Pair.objects.count(), Group.objects.count()) == counts


@pytest.mark.django_db
def test_uploads_are_stored_under_generated_names(run: Run):
    for upload in run.uploads.all():
        stored = upload.file.name
        assert stored.startswith(f"runs/{run.code}/")
        assert "fig" not in stored and "notes" not in stored
