"""Laboratory pictures drawn with numpy, SciPy and Pillow (no OpenCV): western blots and gels, fluorescence
cells, histology-like sections, and real photographs that the first generator does not use.

A style fixes what a lab's pictures of one kind share (a blot's lanes, strips, labels and markers; a
microscope's channels and density); each picture in it has its own content.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage
from scipy.special import expit

LAB_KINDS = ("western", "gel", "cells", "histology")


@dataclass(frozen=True)
class LabStyle:
    kind: str
    lanes: int
    strips: int  # western: antibody strips stacked; gel: 1
    dark: bool  # gel: light bands on dark; western: dark bands on light
    channels: int  # cells: 1 or 3
    dense: bool  # cells: sparse or dense; histology: nuclei density
    width: int
    labels: tuple[str, ...]
    markers: tuple[int, ...]  # kDa or bp of the ladder


def lab_style(rng: np.random.Generator, kind: str) -> LabStyle:
    lanes = int(rng.integers(5, 16))
    words = ("Ctrl", "+", "-", "IP", "WCL", "siNT", "siX", "0h", "2h", "6h", "24h")
    return LabStyle(
        kind=kind,
        lanes=lanes,
        strips=int(rng.integers(1, 4)) if kind == "western" else 1,
        dark=kind == "gel",
        channels=int(rng.choice([1, 3])),
        dense=bool(rng.random() < 0.5),
        width=int(rng.integers(640, 1100)),
        labels=tuple(str(w) for w in rng.choice(words, size=lanes)),
        markers=tuple(sorted(rng.choice([10, 15, 25, 35, 40, 55, 70, 100, 130, 180, 250], 4, replace=False))[::-1]),
    )


def lab_picture(rng: np.random.Generator, look: LabStyle) -> np.ndarray:
    return {"western": western, "gel": gel, "cells": cells, "histology": histology}[look.kind](rng, look)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma)
    return field / max(float(np.abs(field).max()), 1e-9)


def _band_strip(rng: np.random.Generator, lanes: int, width: int, height: int, rows: list[float]) -> np.ndarray:
    """Density (0..1+) of bands: per lane, a Gaussian band at each row's height with its own strength."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    density = np.zeros((height, width), np.float32)
    pitch = width / lanes
    for lane in range(lanes):
        centre = (lane + 0.5) * pitch
        half = pitch * rng.uniform(0.32, 0.42)
        # a lane's profile across: flat top, soft shoulders, slightly smiling
        across = expit((half - np.abs(xs - centre)) / 2.5)
        for row in rows:
            strength = rng.uniform(0.0, 1.0) ** 0.7
            if strength < 0.12:
                continue  # an empty lane for this band
            y = row * height + rng.normal(0, 1.2) + 0.02 * height * ((xs - centre) / pitch) ** 2
            thickness = rng.uniform(2.5, 6.0)
            density += strength * across * np.exp(-(((ys - y) / thickness) ** 2))
    return density


def western(rng: np.random.Generator, look: LabStyle) -> np.ndarray:
    """Strips of one band row each (plus a weaker second band at times), lane labels on top, kDa on the left."""
    left, top = 90, 40
    strip_height = int(rng.integers(70, 110)) if look.strips > 1 else 160
    blot_width = look.width - left - 10
    page = Image.new("L", (look.width, top + look.strips * (strip_height + 14) + 10), 255)
    draw = ImageDraw.Draw(page)
    for lane, label in enumerate(look.labels):
        draw.text((left + (lane + 0.5) * blot_width / look.lanes, top - 6), label, fill=0, font=_font(14), anchor="ms")
    for strip in range(look.strips):
        y0 = top + strip * (strip_height + 14)
        rows = [0.5] if rng.random() < 0.6 else [0.4, 0.65]
        density = _band_strip(rng, look.lanes, blot_width, strip_height, rows)
        density *= 1.0 + 0.4 * _smooth_noise(rng, density.shape, 2.0)
        background = 200 + 20 * _smooth_noise(rng, density.shape, 25.0)
        pixels = np.clip(background - 170 * density + rng.normal(0, 2.0, density.shape), 0, 255)
        page.paste(Image.fromarray(pixels.astype(np.uint8)), (left, y0))
        draw.rectangle((left, y0, left + blot_width - 1, y0 + strip_height - 1), outline=80)
        marker = look.markers[strip % len(look.markers)]
        draw.text((left - 8, y0 + strip_height // 2), f"{marker} kDa", fill=0, font=_font(13), anchor="rm")
    return np.asarray(page.convert("RGB"))


def gel(rng: np.random.Generator, look: LabStyle) -> np.ndarray:
    """A DNA or protein gel: light bands on dark, a ladder in the first lane, many bands per lane."""
    width, height = look.width, int(look.width * rng.uniform(0.55, 0.75))
    left, top = 60, 36
    inner = (height - top - 10, width - left - 10)
    ladder = np.linspace(0.1, 0.9, 8)
    density = _band_strip(rng, 1, inner[1] // look.lanes, inner[0], list(ladder))
    lanes = [density]
    for _ in range(look.lanes - 1):
        rows = sorted(rng.uniform(0.08, 0.92, int(rng.integers(1, 6))))
        lanes.append(_band_strip(rng, 1, inner[1] // look.lanes, inner[0], rows))
    bands = np.concatenate(lanes, axis=1)
    glow = 25 + 15 * _smooth_noise(rng, bands.shape, 30.0)
    pixels = np.clip(glow + 200 * ndimage.gaussian_filter(bands, 1.2) + rng.normal(0, 3, bands.shape), 0, 255)
    page = Image.new("L", (width, height), 0)
    page.paste(Image.fromarray(pixels.astype(np.uint8)), (left, top))
    draw = ImageDraw.Draw(page)
    pitch = bands.shape[1] / look.lanes
    for lane, label in enumerate(("M", *look.labels[1:])):
        draw.text((left + (lane + 0.5) * pitch, top - 8), label, fill=255, font=_font(13), anchor="ms")
    for size, row in zip(look.markers, ladder[::2], strict=False):
        draw.text((left - 6, top + row * inner[0]), f"{size * 10}", fill=255, font=_font(12), anchor="rm")
    return np.asarray(page.convert("RGB"))


def cells(rng: np.random.Generator, look: LabStyle) -> np.ndarray:
    """Fluorescent cells: cytoplasm with texture around a nucleus; one channel, or three (nuclei blue)."""
    width, height = look.width, int(look.width * rng.uniform(0.7, 1.0))
    count = int(rng.integers(60, 160)) if look.dense else int(rng.integers(6, 20))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    cytoplasm = np.zeros((height, width), np.float32)
    nuclei = np.zeros((height, width), np.float32)
    radius = 28 if look.dense else 45
    for _ in range(count):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = radius * rng.uniform(0.6, 1.3)
        angle, stretch = rng.uniform(0, np.pi), rng.uniform(1.0, 2.2)
        window = (slice(max(0, int(cy - 3 * r)), int(cy + 3 * r)), slice(max(0, int(cx - 3 * r)), int(cx + 3 * r)))
        dx, dy = xs[window] - cx, ys[window] - cy
        u = (dx * np.cos(angle) + dy * np.sin(angle)) / stretch
        v = -dx * np.sin(angle) + dy * np.cos(angle)
        distance = np.sqrt(u * u + v * v) / r
        cytoplasm[window] += rng.uniform(0.4, 1.0) * expit((1 - distance) * 8)
        nuclei[window] += rng.uniform(0.6, 1.0) * expit((1 - np.hypot(dx, dy) / (0.35 * r)) * 10)
    texture = 0.65 + 0.35 * _smooth_noise(rng, (height, width), 1.5)
    cytoplasm = ndimage.gaussian_filter(cytoplasm * texture, 1.0)
    nuclei = ndimage.gaussian_filter(nuclei, 1.0)
    noise = rng.normal(0, 4, (height, width, 3))
    if look.channels == 1:
        gray = 255 * np.clip(0.85 * cytoplasm + 0.3 * nuclei, 0, 1)
        tint = np.array([0.2, 1.0, 0.3]) if rng.random() < 0.5 else np.array([1.0, 1.0, 1.0])
        rgb = gray[..., None] * tint
    else:
        rgb = 255 * np.stack([0.8 * cytoplasm * rng.uniform(0.3, 1), 0.9 * cytoplasm, nuclei], axis=-1)
    return np.clip(rgb + 6 + noise, 0, 255).astype(np.uint8)


def histology(rng: np.random.Generator, look: LabStyle) -> np.ndarray:
    """An H&E-like section: eosin stroma with fibres, haematoxylin nuclei, pale lumens (Beer-Lambert colours)."""
    width, height = look.width, int(look.width * rng.uniform(0.65, 0.9))
    eosin = 0.35 + 0.25 * _smooth_noise(rng, (height, width), 4.0) + 0.15 * _smooth_noise(rng, (height, width), 1.0)
    lumens = np.zeros((height, width), bool)
    ys, xs = np.mgrid[0:height, 0:width]
    for _ in range(int(rng.integers(2, 6))):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(30, 90)
        lumens |= ((xs - cx) / r) ** 2 + ((ys - cy) / (r * rng.uniform(0.5, 1.0))) ** 2 < 1
    eosin[lumens] *= 0.15
    count = int(width * height / (700 if look.dense else 1800))
    seeds = np.zeros((height, width), np.float32)
    seeds[rng.integers(0, height, count), rng.integers(0, width, count)] = 1.0
    seeds[lumens] = 0
    haematoxylin = np.clip(ndimage.gaussian_filter(seeds, 2.6) * 60, 0, 1.2)
    # optical densities -> RGB: haematoxylin absorbs red and green, eosin mostly green
    density = haematoxylin[..., None] * np.array([0.65, 0.70, 0.29]) + eosin[..., None] * np.array([0.07, 0.99, 0.11])
    rgb = 255 * np.exp(-2.2 * density) + rng.normal(0, 3, (height, width, 3))
    return np.clip(rgb, 0, 255).astype(np.uint8)


def photographs() -> dict[str, np.ndarray]:
    """Real photographs and scans the first generator does not use, from matplotlib's and scikit-image's data."""
    from matplotlib import cbook
    from matplotlib.colors import LightSource
    from skimage import data

    pictures = {"grace_hopper": np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg")).convert("RGB"))}
    pictures["motorcycle"] = data.stereo_motorcycle()[0]
    elevation = ndimage.zoom(cbook.get_sample_data("jacksboro_fault_dem.npz")["elevation"].astype(np.float32), 2)
    shaded = LightSource(azdeg=315, altdeg=45).shade(elevation, cmap=_terrain(), vert_exag=0.05, blend_mode="soft")
    pictures["fault_relief"] = (255 * shaded[..., :3]).astype(np.uint8)
    with gzip.open(Path(cbook._get_data_path("sample_data", "s1045.ima.gz"))) as scan:
        mri = np.frombuffer(scan.read(), np.uint16).reshape(256, 256).astype(np.float32)
    mri = np.asarray(Image.fromarray((255 * mri / mri.max()).astype(np.uint8)).resize((640, 640), Image.BICUBIC))
    pictures["mri"] = np.stack([mri] * 3, axis=-1)
    return {name: np.ascontiguousarray(picture) for name, picture in pictures.items()}


def _terrain():
    from matplotlib import colormaps

    return colormaps["gist_earth"]
