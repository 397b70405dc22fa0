"""Pictures of the items for people to look at: a thumbnail and a larger view, both JPEG."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

THUMBNAIL_SIDE = 256
VIEW_SIDE = 800  # the engine decodes at most this size (FeatureOptions.sift_max_side)
VIEW, THUMBNAIL = "", "-thumb"  # a picture's two sizes, as suffixes of its key
PICTURE_SIZES = (VIEW, THUMBNAIL)


def picture_file(folder: str, key: str, size: str = VIEW) -> str:
    """The file of a picture's view or thumbnail in `folder`: the one place these names are spelled."""
    return f"{folder}/{key}{size}.jpg"


def preview_key(name: str) -> str:
    """A file-system-safe stem for an item's pictures, whatever characters its name holds."""
    return hashlib.sha256(name.encode()).hexdigest()[:32]


def save_previews(rgb: np.ndarray, name: str, directory: str) -> str:
    """Writes the view (longest side at most VIEW_SIDE) and the thumbnail; returns the key."""
    key = preview_key(name)
    Path(directory).mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(rgb)
    image.thumbnail((VIEW_SIDE, VIEW_SIDE), Image.Resampling.LANCZOS)
    image.save(picture_file(directory, key, VIEW), quality=88)
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    image.save(picture_file(directory, key, THUMBNAIL), quality=82)
    return key
