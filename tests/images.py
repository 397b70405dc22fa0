"""Generated test pictures: textured scenes that SIFT can anchor on, and writers for bad files."""

import struct
import zlib
from pathlib import Path

import numpy as np

from analysis.bench.dataset import write_pdf
from analysis.bench.pictures import save, scene

__all__ = ["pdf_with_images", "png_header_only", "save", "scene"]


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
