import pytest
from django.core.management import CommandError, call_command


def test_it_refuses_unknown_models():
    with pytest.raises(CommandError, match="unknown model 'ViT-Z-1'"):
        call_command("fetch_clip_weights", "ViT-Z-1")


def test_offline_it_fails_with_a_clear_message(settings, tmp_path):
    settings.CLIP_CACHE_DIR = str(tmp_path)
    with pytest.raises(CommandError, match="could not download the ViT-B-32 weights"):
        call_command("fetch_clip_weights", "ViT-B-32")
