"""Generated pictures: textured scenes that SIFT can anchor on, distinct per seed."""

from pathlib import Path

import cv2
import numpy as np
from PIL import Image


def scene(seed: int, width: int = 480, height: int = 360) -> np.ndarray:
    """An RGB picture of random shapes on a noisy gradient: distinct per seed, rich in keypoints."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(40, 200, width, dtype=np.float32)[None, :, None]
    image = np.clip(ramp + rng.normal(0, 12, (height, width, 3)), 0, 255).astype(np.uint8)
    for _ in range(40):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        kind = rng.integers(0, 3)
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        if kind == 0:
            cv2.circle(image, (x, y), int(rng.integers(5, 40)), colour, -1)
        elif kind == 1:
            cv2.rectangle(image, (x, y), (x + int(rng.integers(10, 80)), y + int(rng.integers(10, 80))), colour, -1)
        else:
            end = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            cv2.line(image, (x, y), end, colour, int(rng.integers(2, 6)))
    return cv2.GaussianBlur(image, (3, 3), 0)


def save(image: np.ndarray, path: Path, **params) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(image)).save(path, **params)
    return path
