"""CLIP image embeddings with open_clip, on the best device there is."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import open_clip
import torch
import torch.nn.functional as F

from .verify import best_device

# The pretrained tag used for each model when no local weights file is set.
PRETRAINED_TAGS = {
    "ViT-B-32": "laion2b_s34b_b79k",
    "ViT-B-16": "laion2b_s34b_b88k",
    "ViT-L-14": "laion2b_s32b_b82k",
}
# One command installs the weights; the README's "Air-gapped install" says how to carry them to a machine offline.
FETCH_COMMAND = "`.venv/bin/python manage.py fetch_clip_weights`"
HUB_TIMEOUT_SECONDS = 10


class ClipUnavailable(Exception):
    """The CLIP stage cannot run; the message says why and how to fix it, in one sentence for people."""


@dataclass
class ClipModel:
    model: torch.nn.Module
    device: torch.device
    dtype: torch.dtype
    image_size: int
    mean: torch.Tensor
    std: torch.Tensor


def _hub_file(model_name: str) -> tuple[str, list[str]]:
    """The hub repository of the model's pretrained weights and the file names they may have there."""
    location = open_clip.get_pretrained_cfg(model_name, _tag(model_name))["hf_hub"]
    repo, filename = location.rsplit("/", 1)
    # open_clip prefers the safetensors file where the hub has one
    return repo, [filename] if filename else ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]


def cached_weights(model_name: str, cache_dir: str | None = None) -> str | None:
    """Path of the pretrained weights for model_name if already downloaded, else None. Never uses the network."""
    from huggingface_hub import try_to_load_from_cache

    repo, names = _hub_file(model_name)
    for name in names:
        path = try_to_load_from_cache(repo, name, cache_dir=cache_dir)
        if isinstance(path, str):
            return path
    return None


def _check_hub_reachable(model_name: str) -> None:
    """One request, no retries: the hub client retries a failed connection for about 50 s before it gives up."""
    from urllib.error import HTTPError, URLError
    from urllib.request import Request, urlopen

    from huggingface_hub import constants, hf_hub_url

    if constants.HF_HUB_OFFLINE:
        raise ClipUnavailable("the Hugging Face hub is switched off here (HF_HUB_OFFLINE is set)")
    repo, names = _hub_file(model_name)
    try:
        urlopen(Request(hf_hub_url(repo, names[0]), method="HEAD"), timeout=HUB_TIMEOUT_SECONDS).close()
    except HTTPError:
        pass  # the hub answered; the download says what went wrong, if anything did
    except (URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ClipUnavailable(f"there is no connection to {constants.ENDPOINT} ({reason})") from exc


def download_weights(model_name: str, cache_dir: str | None = None) -> str:
    """The pretrained weights for model_name, downloaded once into cache_dir; returns the file path."""
    path = cached_weights(model_name, cache_dir)
    if path:
        return path
    _check_hub_reachable(model_name)
    try:
        return open_clip.download_pretrained(
            open_clip.get_pretrained_cfg(model_name, _tag(model_name)), cache_dir=cache_dir
        )
    except Exception as exc:  # the hub client raises many kinds; all mean "not downloadable now"
        raise ClipUnavailable(f"the download of the {model_name} weights failed ({exc})") from exc


def load_clip(
    model_name: str,
    weights: str | None = None,
    cache_dir: str | None = None,
    device: torch.device | None = None,
) -> ClipModel:
    """The model with weights from a local file or the download cache. It never downloads: an analysis must not
    wait on the network (`download_weights` is for the command that installs the weights)."""
    if model_name not in open_clip.list_models():
        raise ClipUnavailable(f"there is no CLIP model named '{model_name}' (choose {', '.join(PRETRAINED_TAGS)})")
    if weights:
        if not Path(weights).is_file():
            raise ClipUnavailable(f"the CLIP weights file {weights} does not exist")
        path = weights
    else:
        path = cached_weights(model_name, cache_dir)
        if path is None:
            raise ClipUnavailable(f"the {model_name} weights are not installed; install them with {FETCH_COMMAND}")
    device = device or best_device()
    dtype = torch.float32
    if device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    elif device.type == "mps":
        dtype = torch.float16
    try:
        model = open_clip.create_model(model_name, pretrained=path, device=device)
    except (RuntimeError, OSError, KeyError, ValueError, pickle.UnpicklingError) as exc:
        # the library's own words name tensors and pickles; the file is what a person can act on
        raise ClipUnavailable(
            f"the CLIP weights file {path} could not be loaded: it is not a {model_name} model"
        ) from exc
    model = model.to(dtype=dtype).eval()
    visual = model.visual
    size = visual.image_size
    size = size[0] if isinstance(size, tuple | list) else size
    mean = getattr(visual, "image_mean", None) or open_clip.OPENAI_DATASET_MEAN
    std = getattr(visual, "image_std", None) or open_clip.OPENAI_DATASET_STD
    return ClipModel(
        model=model,
        device=device,
        dtype=dtype,
        image_size=int(size),
        mean=torch.tensor(mean, device=device, dtype=dtype).view(1, 3, 1, 1),
        std=torch.tensor(std, device=device, dtype=dtype).view(1, 3, 1, 1),
    )


def embed(
    clip: ClipModel,
    images: np.ndarray,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """L2-normalised embeddings (n, d) float32 of uint8 images (n, h, w, 3)."""
    total = len(images)
    outputs = []
    pin = clip.device.type == "cuda"
    with torch.inference_mode():
        for start in range(0, total, batch_size):
            batch = torch.from_numpy(images[start : start + batch_size])
            if pin:
                batch = batch.pin_memory()
            batch = batch.to(clip.device, non_blocking=pin).permute(0, 3, 1, 2).to(clip.dtype) / 255.0
            if batch.shape[-1] != clip.image_size or batch.shape[-2] != clip.image_size:
                batch = F.interpolate(batch, size=(clip.image_size, clip.image_size), mode="bilinear", antialias=True)
            features = clip.model.encode_image((batch - clip.mean) / clip.std)
            outputs.append(F.normalize(features.float(), dim=-1).cpu())
            if progress:
                progress(min(start + batch_size, total), total)
    if not outputs:
        return np.zeros((0, 0), np.float32)
    return torch.cat(outputs).numpy()


def _tag(model_name: str) -> str:
    try:
        return PRETRAINED_TAGS[model_name]
    except KeyError:
        raise ClipUnavailable(
            f"no pretrained tag is known for '{model_name}'; set a local weights file instead"
        ) from None
