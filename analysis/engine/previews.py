"""Pictures of the items for people to look at: a thumbnail and a larger view, both JPEG."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

THUMBNAIL_SIDE = 256
VIEW_SIDE = 800  # the engine decodes at most this size (FeatureOptions.sift_max_side)


def preview_key(name: str) -> str:
    """A file-system-safe stem for an item's pictures, whatever characters its name holds."""
    return hashlib.sha256(name.encode()).hexdigest()[:32]


def save_previews(rgb: np.ndarray, name: str, directory: str) -> str:
    """Writes `<key>.jpg` (longest side at most VIEW_SIDE) and `<key>-thumb.jpg`; returns the key."""
    key = preview_key(name)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(rgb)
    image.thumbnail((VIEW_SIDE, VIEW_SIDE), Image.Resampling.LANCZOS)
    image.save(folder / f"{key}.jpg", quality=88)
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    image.save(folder / f"{key}-thumb.jpg", quality=82)
    return key
