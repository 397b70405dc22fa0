import pytest

from analysis.models import Library, Run
from analysis.results import engine_options


def test_the_engine_is_set_up_from_the_sites_settings_and_its_weights_are_for_its_model_only(settings, tmp_path):
    settings.CLIP_MODEL, settings.CLIP_WEIGHTS = "ViT-B-32", str(tmp_path / "b32.pt")
    settings.CLIP_CACHE_DIR, settings.ENGINE_WORKERS = str(tmp_path / "clip"), 3
    site = engine_options()
    assert (site.model, site.clip_weights, site.clip_cache_dir, site.workers) == (
        "ViT-B-32",
        str(tmp_path / "b32.pt"),
        str(tmp_path / "clip"),
        3,
    )
    other = engine_options("ViT-L-14", use_clip=False, workers=1)
    assert (other.model, other.clip_weights, other.use_clip, other.workers) == ("ViT-L-14", None, False, 1)


@pytest.mark.django_db
def test_a_run_keeps_its_pictures_only_when_asked_and_checked_against_a_library(django_user_model):
    alice = django_user_model.objects.create_user("alice", password="password")
    library = Library.objects.create(owner=alice)
    assert Run(owner=alice, library=library, keep=True).keeps_pictures
    assert not Run(owner=alice, library=library, keep=False).keeps_pictures
    assert not Run(owner=alice, library=None, keep=True).keeps_pictures
