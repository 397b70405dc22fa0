"""The real weight-loading code, run on a small randomly initialised open_clip model saved to a file."""

import json
import socket
from pathlib import Path

import numpy as np
import open_clip
import pytest
import torch

from analysis.engine.embed import ClipUnavailable, cached_weights, embed, load_clip
from tests.images import scene

TINY = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "head_width": 32, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clip")
    (folder / "deepchecker-tiny.json").write_text(json.dumps(TINY))
    open_clip.add_model_config(folder / "deepchecker-tiny.json")
    torch.manual_seed(0)
    model = open_clip.create_model("deepchecker-tiny")
    path = folder / "tiny.pt"
    torch.save(model.state_dict(), path)
    return path


def test_it_loads_weights_from_a_local_file_and_embeds(tiny_weights):
    clip = load_clip("deepchecker-tiny", weights=str(tiny_weights), device=torch.device("cpu"))
    assert clip.image_size == 64
    images = np.stack([scene(1, 224, 224), scene(1, 224, 224), scene(2, 224, 224)])
    seen = []
    vectors = embed(clip, images, batch_size=2, progress=lambda done, total: seen.append((done, total)))
    assert vectors.shape == (3, 32)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] == pytest.approx(1.0, abs=1e-5)
    assert seen == [(2, 3), (3, 3)]


def test_the_loaded_weights_are_the_saved_ones(tiny_weights):
    clip = load_clip("deepchecker-tiny", weights=str(tiny_weights), device=torch.device("cpu"))
    saved = torch.load(tiny_weights)
    loaded = clip.model.state_dict()
    assert all(torch.equal(saved[key], loaded[key]) for key in saved)


def test_a_missing_weights_file_is_named(tmp_path):
    with pytest.raises(ClipUnavailable, match="the CLIP weights file .*nope.pt does not exist"):
        load_clip("ViT-B-32", weights=str(tmp_path / "nope.pt"))


def test_a_corrupt_weights_file_is_reported_without_the_library_s_words(tiny_weights, tmp_path):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(ClipUnavailable) as raised:
        load_clip("deepchecker-tiny", weights=str(broken))
    assert (
        str(raised.value) == f"the CLIP weights file {broken} could not be loaded: it is not a deepchecker-tiny model"
    )


def test_without_installed_weights_it_says_so_and_never_touches_the_network(tmp_path, monkeypatch):
    def no_network(*args):
        raise AssertionError("an analysis must not use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert cached_weights("ViT-B-32", str(tmp_path)) is None
    with pytest.raises(ClipUnavailable) as raised:
        load_clip("ViT-B-32", cache_dir=str(tmp_path))
    assert str(raised.value) == (
        "the ViT-B-32 weights are not installed; install them with `.venv/bin/python manage.py fetch_clip_weights`"
    )


def test_an_unknown_model_is_refused():
    with pytest.raises(ClipUnavailable, match="there is no CLIP model named 'ViT-Z-99'"):
        load_clip("ViT-Z-99")
