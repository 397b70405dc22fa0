"""Finding items in files and folders, and decoding them to pixels.

An item is one picture: an image file, one page of a multi-page TIFF, one
rendered PDF page, or one raster image embedded in a PDF page.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageOps, UnidentifiedImageError

from .names import embedding_page

# Only these decoders are ever opened; anything else is refused unread.
IMAGE_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP")
IMAGE_SUFFIXES = {
    ".jpg",
    ".jpeg",
    ".jpe",
    ".png",
    ".gif",
    ".bmp",
    ".tif",
    ".tiff",
    ".webp",
}
PDF_SUFFIXES = {".pdf"}

_EXIF_ORIENTATION = 0x0112
_QUARTER_TURNS = {5, 6, 7, 8}

# PIL's own bomb check only warns below twice its limit; the explicit size
# check in _open_image is what enforces ours.
Image.MAX_IMAGE_PIXELS = None


class UnreadableItem(Exception):
    """An input that cannot be used; its message is shown to the user."""


@dataclass(frozen=True)
class SourceFile:
    path: str
    name: str


@dataclass(frozen=True)
class ItemRef:
    """Where one item's pixels come from; `page` and `image` are 0-based."""

    name: str
    path: str
    kind: str  # "image", "tiff_page", "pdf_page" or "pdf_image"
    page: int | None = None
    image: int | None = None

    @property
    def container(self) -> str | None:
        """The item this one is drawn inside: an embedded image's PDF page."""
        return embedding_page(self.name) if self.kind == "pdf_image" else None


@dataclass(frozen=True)
class Skipped:
    name: str
    reason: str


@dataclass(frozen=True)
class Limits:
    max_image_pixels: int = 100_000_000
    max_pdf_pages: int = 500
    pdf_dpi: int = 150
    pdf_max_page_pixels: int = 12_000_000
    pdf_min_image_side: int = 96
    max_items_per_file: int = 2000
    # pictures one run compares: its CLIP and verification stages hold each one's bounded features (about
    # 0.7 MB with its panels' and CLIP's input), so this bounds their memory (about 3.5 GB)
    max_items_per_run: int = 5000
    # reading processes: memory each may take for one file (address space beyond what it had mapped once
    # started), and time for one file
    reader_memory_mb: int = 4096
    read_timeout_seconds: float = 300


# an affine map, 2 rows of 3: (x, y, 1) -> (x', y')
Placement = tuple[tuple[float, float, float], tuple[float, float, float]]


@dataclass
class Decoded:
    ref: ItemRef
    rgb: np.ndarray  # (h, w, 3) uint8, longest side at most the requested size
    original_size: tuple[int, int]  # (width, height) before any resizing
    # an embedded image's place on its page: its fractions (from the top left) -> the page's fractions
    placement: Placement | None = None


def collect_files(paths: Iterable[str | os.PathLike]) -> tuple[list[SourceFile], list[Skipped]]:
    """Files under the given paths, named by their path relative to the root given."""
    files: list[SourceFile] = []
    skipped: list[Skipped] = []
    taken: set[str] = set()
    for root in map(Path, paths):
        if root.is_dir():
            found = sorted(p for p in root.rglob("*") if p.is_file())
            pairs = [(p, p.relative_to(root).as_posix()) for p in found]
        elif root.is_file():
            pairs = [(root, root.name)]
        else:
            skipped.append(Skipped(str(root), "no such file or folder"))
            continue
        for path, name in pairs:
            if name in taken:
                name = f"{root.name}/{name}"
            suffix = 2
            unique = name
            while unique in taken:
                unique = f"{name}~{suffix}"
                suffix += 1
            taken.add(unique)
            files.append(SourceFile(str(path), unique))
    return files, skipped


def expand(source: SourceFile, limits: Limits) -> list[ItemRef]:
    """The items inside one file. Raises UnreadableItem for a file with none."""
    # the path's, not the name's: a name made unique ("a.png~2") or stored under a generated path keeps its type
    suffix = Path(source.path).suffix.lower()
    if os.path.getsize(source.path) == 0:
        raise UnreadableItem("empty file (0 bytes)")
    if suffix in PDF_SUFFIXES:
        return _expand_pdf(source, limits)
    if suffix in IMAGE_SUFFIXES:
        with _open_image(source.path, limits) as im:
            frames = getattr(im, "n_frames", 1) if im.format == "TIFF" else 1
        if frames == 1:
            return [ItemRef(source.name, source.path, "image")]
        frames = min(frames, limits.max_items_per_file)
        return [ItemRef(f"{source.name}#page={n + 1}", source.path, "tiff_page", page=n) for n in range(frames)]
    raise UnreadableItem(f"unsupported file type '{suffix or 'no extension'}'; expected an image or a PDF")


def decode(ref: ItemRef, max_side: int, limits: Limits) -> Decoded:
    """Pixels of one item as RGB, downscaled so that the longest side is at most max_side."""
    if ref.kind in ("image", "tiff_page"):
        with _open_image(ref.path, limits) as im:
            if ref.page:
                im.seek(ref.page)
            original = im.size
            if im.format == "JPEG":
                im.draft("RGB", _draft_size(original, max_side))
                if im.getexif().get(_EXIF_ORIENTATION) in _QUARTER_TURNS:
                    original = original[::-1]  # exif_transpose in _to_rgb turns the pixels upright
            rgb = _to_rgb(im)
    elif ref.kind == "pdf_page":
        with _open_pdf(ref.path) as pdf:
            page = pdf[ref.page]
            width, height = page.get_size()
            scale = limits.pdf_dpi / 72
            scale = min(scale, (limits.pdf_max_page_pixels / max(width * height, 1.0)) ** 0.5)
            original = (round(width * scale), round(height * scale))
            rgb = _to_rgb(page.render(scale=scale).to_pil())
    elif ref.kind == "pdf_image":
        with _open_pdf(ref.path) as pdf:
            page = pdf[ref.page]
            image = _pdf_images(page, limits)[ref.image]
            width, height = image.get_px_size()
            _check_pixels(width, height, limits)
            original = (width, height)
            rgb = _to_rgb(image.get_bitmap(render=False).to_pil())
            placement = _placement(image.get_matrix().get(), page.get_size())
        return Decoded(ref, _fit(rgb, max_side), original, placement)
    else:
        raise ValueError(f"unknown item kind {ref.kind}")
    return Decoded(ref, _fit(rgb, max_side), original)


def _placement(matrix: tuple[float, ...], page_size: tuple[float, float]) -> Placement:
    """Where an image is drawn on its page, as a map from the image's fractions to the page's, both measured from
    the top left. PDF draws an image into the unit square, its first row at y = 1, through `matrix` (a, b, c, d,
    e, f) into page space, whose y grows upwards from the bottom."""
    a, b, c, d, e, f = matrix
    width, height = page_size
    return ((a / width, -c / width, (c + e) / width), (-b / height, d / height, 1 - (d + f) / height))


def is_image_or_pdf(stream: BinaryIO) -> bool:
    """Whether the content is of a kind the engine reads, by its first bytes (its name may say otherwise); a
    damaged file of the right kind passes here and is skipped with its reason when it is read."""
    start = stream.tell()
    head = stream.read(1024)
    stream.seek(start)
    if b"%PDF-" in head:  # readers accept a PDF header anywhere in the first kilobyte
        return True
    Image.init()
    # each Pillow plugin's own test of a file's first bytes, which parses nothing
    return any(Image.OPEN[name][1](head) for name in IMAGE_FORMATS)


def _open_image(path: str, limits: Limits) -> Image.Image:
    try:
        im = Image.open(path, formats=IMAGE_FORMATS)
    except UnidentifiedImageError:
        raise UnreadableItem("not a readable image (unknown or corrupt content)") from None
    except (OSError, SyntaxError, ValueError):
        # the decoder's own words ("Truncated File Read") help nobody who reads the report
        raise UnreadableItem("not a readable image (damaged or truncated)") from None
    try:
        _check_pixels(*im.size, limits)
    except UnreadableItem:
        im.close()
        raise
    return im


def _check_pixels(width: int, height: int, limits: Limits) -> None:
    if width * height > limits.max_image_pixels:
        raise UnreadableItem(
            f"image too large: {width}x{height} = {width * height / 1e6:.0f} megapixels, "
            f"the limit is {limits.max_image_pixels / 1e6:.0f}"
        )
    if width < 1 or height < 1:
        raise UnreadableItem(f"image has no pixels ({width}x{height})")


def _draft_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    scale = max_side / max(size)
    return (max(1, int(size[0] * scale)), max(1, int(size[1] * scale)))


def _to_rgb(im: Image.Image) -> np.ndarray:
    try:
        im.load()
        if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
            values = np.asarray(im, dtype=np.float32)
            low, high = np.percentile(values, (0.1, 99.9))
            scaled = np.clip((values - low) * (255.0 / max(high - low, 1e-6)), 0, 255)
            im = Image.fromarray(scaled.astype(np.uint8))
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            im = im.convert("RGBA")
            background = Image.new("RGBA", im.size, (255, 255, 255, 255))
            im = Image.alpha_composite(background, im)
        im = ImageOps.exif_transpose(im) if im.format == "JPEG" else im
        return np.asarray(im.convert("RGB"))
    except (OSError, SyntaxError, ValueError):
        raise UnreadableItem("image data is corrupt or truncated") from None


def _fit(rgb: np.ndarray, max_side: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    if max(height, width) <= max_side:
        return np.ascontiguousarray(rgb)
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))


@contextmanager
def _open_pdf(path: str) -> Iterator[pdfium.PdfDocument]:
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise UnreadableItem("encrypted PDF (needs a password)") from None
        raise UnreadableItem("not a readable PDF (damaged, or not really a PDF)") from None
    try:
        yield pdf
    finally:
        pdf.close()


def _pdf_images(page: pdfium.PdfPage, limits: Limits) -> list[pdfium.PdfImage]:
    return [
        image
        for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=5)
        if min(image.get_px_size()) >= limits.pdf_min_image_side
    ]


def _expand_pdf(source: SourceFile, limits: Limits) -> list[ItemRef]:
    refs: list[ItemRef] = []
    with _open_pdf(source.path) as pdf:
        pages = len(pdf)
        if pages == 0:
            raise UnreadableItem("PDF has no pages")
        if pages > limits.max_pdf_pages:
            raise UnreadableItem(f"PDF has {pages} pages, the limit is {limits.max_pdf_pages}")
        for number in range(pages):
            page = pdf[number]
            refs.append(ItemRef(f"{source.name}#page={number + 1}", source.path, "pdf_page", page=number))
            for index in range(len(_pdf_images(page, limits))):
                refs.append(
                    ItemRef(
                        f"{source.name}#page={number + 1}&image={index + 1}",
                        source.path,
                        "pdf_image",
                        page=number,
                        image=index,
                    )
                )
            if len(refs) >= limits.max_items_per_file:
                break
    return refs[: limits.max_items_per_file]
