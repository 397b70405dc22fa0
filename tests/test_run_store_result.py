import numpy as np
import pytest
from django.core.files.base import ContentFile

from analysis.engine.pipeline import Options, find_duplicates
from analysis.engine.sources import SourceFile
from analysis.models import Group, Item, Pair, Run, Upload
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
    run.store_result(analyse(run))
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
    assert sorted(group.items.values_list("name", flat=True)) == ["a/fig.png", "b/fig.png"]


@pytest.mark.django_db
def test_storing_again_replaces_the_earlier_rows(run: Run):
    result = analyse(run)
    run.store_result(result)
    counts = (Item.objects.count(), Pair.objects.count(), Group.objects.count())
    run.store_result(result)
    assert (Item.objects.count(), Pair.objects.count(), Group.objects.count()) == counts


@pytest.mark.django_db
def test_uploads_are_stored_under_generated_names(run: Run):
    for upload in run.uploads.all():
        stored = upload.file.name
        assert stored.startswith(f"runs/{run.code}/")
        assert "fig" not in stored and "notes" not in stored
