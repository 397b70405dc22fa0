"""Installing the CLIP weights: the one place that may use the network, once, with no retries."""

from pathlib import Path
from urllib.error import URLError

import open_clip
import pytest
from django.core.management import CommandError, call_command
from huggingface_hub import constants

from analysis.engine import embed

REPO = "models--laion--CLIP-ViT-B-32-laion2B-s34B-b79K"


@pytest.fixture
def network_down(settings, tmp_path, monkeypatch):
    """No route to the hub: every request fails at once, and each one is counted."""
    settings.CLIP_CACHE_DIR = str(tmp_path)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    requests = []

    def refuse(request, timeout):
        requests.append((request.get_method(), request.full_url, timeout))
        raise URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr("urllib.request.urlopen", refuse)
    monkeypatch.setattr(open_clip, "download_pretrained", lambda *a, **k: pytest.fail("no download without a hub"))
    return requests


def test_it_refuses_unknown_models():
    with pytest.raises(CommandError, match="unknown model 'ViT-Z-1'"):
        call_command("fetch_clip_weights", "ViT-Z-1")


def test_without_a_connection_it_asks_once_and_says_how_to_install_offline(network_down, settings):
    with pytest.raises(CommandError) as raised:
        call_command("fetch_clip_weights", "ViT-B-32")
    message = str(raised.value)
    assert message.startswith(
        "The ViT-B-32 weights are not installed: there is no connection to https://huggingface.co "
        "([Errno -2] Name or service not known); on a machine without internet, copy the folder "
        f"{settings.CLIP_CACHE_DIR} from a machine where this command ran"
    )
    assert "Air-gapped install" in message
    assert [(method, timeout) for method, _, timeout in network_down] == [("HEAD", embed.HUB_TIMEOUT_SECONDS)]


def test_make_run_s_call_goes_on_without_a_connection(network_down, capsys):
    call_command("fetch_clip_weights", "--if-reachable")
    said = capsys.readouterr().out
    assert said.startswith("The ViT-B-32 weights are not installed: there is no connection")
    assert said.strip().endswith("Analyses rank pairs by local features alone until then.")
    assert len(network_down) == 1


def test_with_the_hub_switched_off_it_asks_nothing(network_down, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(CommandError, match="the Hugging Face hub is switched off here"):
        call_command("fetch_clip_weights")
    assert network_down == []


def test_installed_weights_are_found_without_the_network(network_down, settings, capsys):
    cached = Path(settings.CLIP_CACHE_DIR, REPO)
    (cached / "refs").mkdir(parents=True)
    (cached / "refs" / "main").write_text("0123abcd")
    weights = cached / "snapshots" / "0123abcd" / "open_clip_pytorch_model.bin"
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"weights")
    call_command("fetch_clip_weights", "ViT-B-32")
    assert capsys.readouterr().out.strip() == f"ViT-B-32 (laion2b_s34b_b79k): {weights}"
    assert network_down == []
