"""What authors do to a picture before it reappears, done with Pillow: each edit, combinations of two, and
multi-panel figures with their own gutters, frames and letters."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont

EDITS = (
    "jpeg",
    "scale",
    "crop",
    "quarter_turn",
    "half_turn",
    "tilt",
    "mirror",
    "levels",
    "noise",
    "annotate",
)
COMBINED = ("crop+tilt", "crop+quarter_turn", "noise+jpeg", "scale+levels")
JPEG_QUALITY = 60  # what the "jpeg" edit and "panel+jpeg" are saved at


def saved_quality(name: str) -> int:
    """The JPEG quality a copy made by the edit `name` is saved at."""
    return JPEG_QUALITY if name.endswith("jpeg") else 90


def edit(picture: np.ndarray, name: str, rng: np.random.Generator) -> np.ndarray:
    """The picture after one edit, or after each of the edits of a combined name ("crop+tilt")."""
    image = Image.fromarray(picture)
    for step in name.split("+"):
        image = _EDIT[step](image, rng)
    return np.asarray(image.convert("RGB"))


def _jpeg(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    return image  # saved at JPEG_QUALITY by the writer


def _scale(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    factor = float(rng.choice([rng.uniform(0.4, 0.75), rng.uniform(1.2, 1.5)]))
    return image.resize((round(image.width * factor), round(image.height * factor)), Image.BICUBIC)


def _crop(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    width, height = (round(side * rng.uniform(0.5, 0.9)) for side in image.size)
    x, y = int(rng.integers(0, image.width - width + 1)), int(rng.integers(0, image.height - height + 1))
    return image.crop((x, y, x + width, y + height))


def _quarter_turn(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    return image.transpose(Image.ROTATE_90 if rng.random() < 0.5 else Image.ROTATE_270)


def _half_turn(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    return image.transpose(Image.ROTATE_180)


def _tilt(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    corner = image.getpixel((0, 0))
    angle = float(rng.uniform(2, 15) * rng.choice([-1, 1]))
    return image.convert("RGB").rotate(angle, Image.BICUBIC, expand=True, fillcolor=corner)


def _mirror(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    return image.transpose(Image.FLIP_LEFT_RIGHT if rng.random() < 0.6 else Image.FLIP_TOP_BOTTOM)


def _levels(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    gamma = float(rng.uniform(0.5, 2.0))
    table = [round(255 * (v / 255) ** gamma) for v in range(256)]
    image = image.convert("RGB").point(table * 3)
    image = ImageEnhance.Contrast(image).enhance(float(rng.uniform(0.75, 1.4)))
    return ImageEnhance.Brightness(image).enhance(float(rng.uniform(0.85, 1.15)))


def _noise(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    pixels = np.asarray(image.convert("RGB")).astype(np.float32)
    noisy = pixels + rng.normal(0, rng.uniform(8, 20), pixels.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def _annotate(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A label, an arrow and a scale bar, in a colour that stands out, sized to the picture."""
    image = image.convert("RGB").copy()
    draw = ImageDraw.Draw(image)
    unit = min(image.size) / 400
    colour = tuple(int(c) for c in rng.choice([[255, 255, 255], [255, 0, 0], [0, 0, 0], [255, 220, 0]]))
    font = ImageFont.load_default(size=max(10, round(18 * unit)))
    x, y = rng.uniform(0.05, 0.6) * image.width, rng.uniform(0.05, 0.3) * image.height
    draw.text((x, y), str(rng.choice(["***", "n.s.", "Day 3", "IF", "#2"])), fill=colour, font=font)
    tip = np.array([rng.uniform(0.3, 0.7) * image.width, rng.uniform(0.3, 0.7) * image.height])
    tail = tip + rng.uniform(30, 70) * unit * np.array([1, -1]) * rng.choice([-1, 1], 2)
    draw.line((*tail, *tip), fill=colour, width=max(2, round(3 * unit)))
    head = 10 * unit
    draw.polygon([tuple(tip), tuple(tip + [head, head * 0.4]), tuple(tip + [head * 0.4, head])], fill=colour)
    bar_y = image.height * 0.93
    draw.line((image.width * 0.72, bar_y, image.width * 0.92, bar_y), fill=colour, width=max(3, round(5 * unit)))
    return image


_EDIT = {
    "jpeg": _jpeg,
    "scale": _scale,
    "crop": _crop,
    "quarter_turn": _quarter_turn,
    "half_turn": _half_turn,
    "tilt": _tilt,
    "mirror": _mirror,
    "levels": _levels,
    "noise": _noise,
    "annotate": _annotate,
}


@dataclass(frozen=True)
class Layout:
    rows: int
    columns: int
    gutter: int  # pixels between panels; 0: panels touch
    frame: bool  # a thin dark line around each panel
    letters: str  # "outside" (bold capitals above-left), "inside" (lower case on the picture), "none"


def layout(rng: np.random.Generator, panels: int | None = None) -> Layout:
    shapes = [(1, 2), (1, 3), (2, 2), (2, 3)]
    rows, columns = shapes[int(rng.integers(len(shapes)))] if panels is None else (1, panels)
    return Layout(
        rows,
        columns,
        gutter=int(rng.choice([0, 3, 10, 24])),
        frame=bool(rng.random() < 0.4),
        letters=str(rng.choice(["outside", "inside", "none"])),
    )


def figure(
    pictures: list[np.ndarray], look: Layout, cell: int, rng: np.random.Generator
) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """The pictures in a lettered grid of `look`, each fitted into a cell of `cell` px, in reading order; and
    where each lies on the page (x0, y0, x1, y1), its frame included."""
    margin = 28 if look.letters == "outside" else max(look.gutter, 6)
    pitch_x, pitch_y = cell + look.gutter + (margin if look.letters == "outside" else 0), cell + look.gutter
    width = margin + look.columns * pitch_x
    height = margin + look.rows * (pitch_y + (margin if look.letters == "outside" else 0))
    page = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=22)
    boxes = []
    for number, picture in enumerate(pictures):
        row, column = divmod(number, look.columns)
        image = Image.fromarray(picture)
        image.thumbnail((cell, cell), Image.LANCZOS)
        x = margin + column * pitch_x
        y = margin + row * (pitch_y + (margin if look.letters == "outside" else 0))
        page.paste(image, (x, y))
        boxes.append((x, y, x + image.width, y + image.height))
        if look.frame:
            draw.rectangle((x, y, x + image.width - 1, y + image.height - 1), outline=(40, 40, 40), width=2)
        letter = "ABCDEF"[number]
        if look.letters == "outside":
            draw.text((x - 24, y - 26), letter, fill="black", font=font)
        elif look.letters == "inside":
            draw.rectangle((x + 4, y + 4, x + 26, y + 30), fill="white")
            draw.text((x + 8, y + 5), letter.lower(), fill="black", font=font)
    return np.asarray(page), boxes
