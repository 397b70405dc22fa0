"""Generated test pictures: textured scenes that SIFT can anchor on, and writers for bad files."""

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from analysis.bench.dataset import write_pdf


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


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A tiny PNG that declares huge dimensions: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 64)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def pdf_with_images(path: Path, images: list[np.ndarray], password: str | None = None) -> Path:
    """A PDF with one page per image, optionally encrypted with a user password."""
    write_pdf(path, images)
    if password:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter(clone_from=PdfReader(path))
        writer.encrypt(password)
        writer.write(path)
    return path
