"""Per-item features, computed once and kept for every comparison.

- SIFT keypoints and descriptors on a contrast-normalised grayscale, with
  text, tick marks, axes and scale bars masked out (they are shared by
  unrelated figures and are the commonest source of false matches).
- A small grayscale and content mask for the dense photometric check.
- A global signature of a normalised thumbnail under the 8 rotations and
  flips, for whole-image copies of images with few keypoints.
- The CLIP input: a square uint8 crop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import cv2
import numpy as np

from .names import panel_name
from .sources import Decoded, Placement

if TYPE_CHECKING:
    from .alignment import Alignment


@dataclass(frozen=True)
class FeatureOptions:
    sift_max_side: int = 800
    sift_min_side: int = 480  # smaller images are upscaled so that they still yield keypoints
    sift_max_keypoints: int = 1200
    sift_contrast_threshold: float = 0.015  # below OpenCV's 0.04, for blots and faint fluorescence
    check_side: int = 320
    signature_side: int = 24
    clip_side: int = 224
    max_mark_share: float = 0.2  # labels and axes cover under 10% of a figure
    panel_min_fraction: float = 0.12  # of the figure's width and height
    panel_min_side: int = 64
    panel_min_thickness: int = 24  # a long strip (a blot's) may be this thin
    strip_min_fraction: float = 0.25  # of the figure's width or height along it
    panel_min_strip_area: float = 0.015  # of the figure
    panel_min_gutter: float = 0.012  # of the figure's shorter side
    panel_min_gutter_px: int = 4
    panel_thin_gutter_px: int = 2  # between two pictures whose facing edges are straight
    panel_min_area: float = 0.05  # of the figure: an open panel this large (a plot) is compared on its own
    page_min_level: int = 200  # a figure's page is light
    page_tolerance: int = 8  # grey levels around the page's own
    gutter_max_ink: float = 0.06  # share of a gutter's line that may be ink: a panel letter standing in it
    frame_min_ink: float = 0.985  # share of a frame's line within a few grey levels of its own
    frame_level_tolerance: float = 48  # grey levels: JPEG's ringing beside a dark line
    frame_min_darkness: float = 100  # grey levels from the page: a frame is drawn dark
    frame_lighter_share: float = 0.5  # of a line beside a frame, lighter than the frame is
    frame_pair_ink: float = 1.5  # two frames meeting hold about twice one frame's ink
    frame_max_width: int = 6  # px: a frame's line, or the two of framed panels set edge to edge, and the gap
    chart_max_tone: float = 0.045  # share of pixels in continuous tone: charts 0-3.5% (gridded too), micrographs 6% up
    chart_panel_min_fraction: float = 0.2  # of the figure's width and height: a chart in a grid of charts
    chart_min_strokes: float = 0.02  # share of pixels on an edge: charts 6-10%, an empty faint field 0%


@dataclass
class ItemFeatures:
    name: str
    original_size: tuple[int, int]  # (width, height)
    sift_size: tuple[int, int]  # (width, height) of the image keypoints are in
    keypoints: np.ndarray  # (n, 4) float32: x, y, size, angle in degrees
    descriptors: np.ndarray  # (n, 128) uint8 SIFT
    check_gray: np.ndarray  # (h, w) uint8, longest side check_side
    check_content: np.ndarray  # (h, w) bool, False on text and lines
    # check_gray before equalisation: how light each part is, which equalising evens out (a band's strength)
    check_tone: np.ndarray | None  # (h, w) uint8; None for library entries kept before it was
    signature: np.ndarray  # (8, d) float32, unit rows: the 8 dihedral views
    clip_input: np.ndarray  # (clip_side, clip_side, 3) uint8
    chart: bool = False  # a chart or schematic: drawn marks and flat fills, no continuous tone
    parent: str | None = None  # for a figure panel: the item it was cut from
    inside: str | None = None  # for an image embedded in a PDF page: that page's item
    placement: Placement | None = None  # and where on that page it is drawn (sources.Decoded)
    box: tuple[int, int, int, int] | None = None  # the panel in the parent's pixels: x0, y0, x1, y1
    kind: str = "image"  # as in sources.ItemRef
    page: int | None = None  # 0-based page of a PDF or TIFF
    preview: str | None = None  # the key of its pictures in the preview folder, when one was given
    clone: Alignment | None = None  # a region copied elsewhere in the picture (clones.py); whole items only
    panels: list[tuple[int, int, int, int]] = field(default_factory=list)  # all its panels' boxes, as `box`
    library: str | None = None  # the key of the library entry it was loaded from (library.py)
    seconds: float = 0.0  # time taken to read it, from decoding to the copies inside it, its panels' included


def extract(decoded: Decoded, options: FeatureOptions) -> list[ItemFeatures]:
    """Features of the item, then of each panel when it is a multi-panel figure.

    The item lists all its panels' boxes (`panels`); small open panels get no features of their own.
    """
    rgb = decoded.rgb
    name = decoded.ref.name
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    # marks found once, at the scale of the whole picture's keypoints; each panel takes its part
    marks = text_mask(resize_longest(gray, _sift_side(gray.shape, options)))
    whole = _describe(rgb, gray, marks, name, decoded.original_size, options)
    whole.inside, whole.placement = decoded.ref.container, decoded.placement
    whole.kind, whole.page = decoded.ref.kind, decoded.ref.page
    boxes = split_panels(gray, options)
    parts = [_part(marks, box, gray.shape) for box in boxes]
    if whole.chart and all(
        _drawing(gray[y0:y1, x0:x1], part, options)[1] < options.chart_max_tone
        for (x0, y0, x1, y1), part in zip(boxes, parts, strict=True)
    ):
        # a chart's legend, plot area and labels are its parts, alike in every chart of one style; a grid of
        # charts is cut into large boxes of about one size
        boxes = _chart_grid(boxes, gray.shape, options)
        if not boxes:
            return [whole]
        parts = [_part(marks, box, gray.shape) for box in boxes]
    # a panel is compared on its own when it fills its box edge to edge (a micrograph) or is large (a plot);
    # the bits an X-Y cut leaves of an open panel (a blot's label strip) are found within the whole figure
    background = int(np.median(np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])))
    compared = [_solid(gray, box, background) or _area(box) >= options.panel_min_area * gray.size for box in boxes]
    scale_x = decoded.original_size[0] / rgb.shape[1]
    scale_y = decoded.original_size[1] / rgb.shape[0]
    panels = []
    for number, ((x0, y0, x1, y1), part, own) in enumerate(zip(boxes, parts, compared, strict=True), start=1):
        box = (round(x0 * scale_x), round(y0 * scale_y), round(x1 * scale_x), round(y1 * scale_y))
        whole.panels.append(box)
        if own:
            size = (box[2] - box[0], box[3] - box[1])
            crop = (slice(y0, y1), slice(x0, x1))
            panel = _describe(rgb[crop], gray[crop], part, panel_name(name, number), size, options)
            panel.parent, panel.box = name, box
            panels.append(panel)
    return [whole, *panels]


def _chart_grid(
    boxes: list[tuple[int, int, int, int]], shape: tuple[int, int], options: FeatureOptions
) -> list[tuple[int, int, int, int]]:
    """The boxes of a figure of charts that are charts of their own; [] for one chart cut into its parts."""
    height, width = shape
    large = [
        (x0, y0, x1, y1)
        for x0, y0, x1, y1 in boxes
        if x1 - x0 >= options.chart_panel_min_fraction * width and y1 - y0 >= options.chart_panel_min_fraction * height
    ]
    largest = max((_area(box) for box in large), default=0)
    charts = [box for box in large if 3 * _area(box) >= largest]
    return charts if len(charts) >= 2 else []


def _solid(gray: np.ndarray, box: tuple[int, int, int, int], background: int) -> bool:
    """Whether the picture in the box runs to all four of its edges, rather than fading into the page."""
    x0, y0, x1, y1 = box
    inside = np.abs(gray[y0:y1, x0:x1].astype(np.int16) - background) > 10
    return min(inside[0].mean(), inside[-1].mean(), inside[:, 0].mean(), inside[:, -1].mean()) >= 0.7


def _part(marks: np.ndarray, box: tuple[int, int, int, int], shape: tuple[int, int]) -> np.ndarray:
    """The marks inside a box given in the pixels of a picture of `shape`."""
    scale_y, scale_x = marks.shape[0] / shape[0], marks.shape[1] / shape[1]
    x0, y0, x1, y1 = box
    return marks[round(y0 * scale_y) : max(round(y1 * scale_y), 1), round(x0 * scale_x) : max(round(x1 * scale_x), 1)]


def _drawing(gray: np.ndarray, marks: np.ndarray, options: FeatureOptions) -> tuple[float, float]:
    # measured as the picture is, never upscaled: interpolation would soften every sharp edge into tone
    native = resize_longest(gray, min(max(gray.shape), options.sift_max_side))
    return drawing(native, cv2.resize(marks, (native.shape[1], native.shape[0]), interpolation=cv2.INTER_NEAREST))


def _describe(
    rgb: np.ndarray,
    gray: np.ndarray,
    marks: np.ndarray,
    name: str,
    original_size: tuple[int, int],
    options: FeatureOptions,
) -> ItemFeatures:
    sift_gray = resize_longest(gray, _sift_side(gray.shape, options))
    text = cv2.resize(marks, (sift_gray.shape[1], sift_gray.shape[0]), interpolation=cv2.INTER_NEAREST)
    strokes, tone = _drawing(gray, marks, options)
    if np.count_nonzero(text) > options.max_mark_share * text.size:
        text[:] = 0  # marks everywhere are the picture itself (a brick wall, a mesh), not labels on it
    normalised = normalise_contrast(sift_gray)
    keypoints, descriptors = _sift(normalised, text, options)

    # never upscaled: on a small picture that would turn pixel noise into texture
    check_tone = stretch_contrast(resize_longest(gray, min(options.check_side, max(gray.shape))))
    check_gray = equalise(check_tone)
    check_text = cv2.resize(text, check_gray.shape[::-1], interpolation=cv2.INTER_AREA)
    # the dense check band-passes at up to 6 px: marks must not leak into the blocks beside them
    check_text = cv2.dilate(check_text, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (13, 13))) > 0
    return ItemFeatures(
        name=name,
        original_size=original_size,
        sift_size=(sift_gray.shape[1], sift_gray.shape[0]),
        keypoints=keypoints,
        descriptors=descriptors,
        check_gray=check_gray,
        check_content=~check_text,
        check_tone=check_tone,
        signature=_signature(normalised, options.signature_side),
        clip_input=_clip_input(rgb, options.clip_side),
        chart=strokes >= options.chart_min_strokes and tone < options.chart_max_tone,
    )


def drawing(gray: np.ndarray, marks: np.ndarray) -> tuple[float, float]:
    """The shares of a picture's pixels on a stroke (an edge) and in continuous tone.

    A pixel is drawn when it is flat, on or beside a mark (text, axes, ticks), or beside a sharp edge
    between flat areas (a bar, a box); what is left is tone (cells, bands, photographs). A chart or
    schematic has strokes and almost no tone; an empty field has neither.
    """
    values = gray.astype(np.float32)
    mean = cv2.blur(values, (5, 5))
    flat = np.sqrt(np.maximum(cv2.blur(values * values, (5, 5)) - mean * mean, 0)) < 2.5
    gradient = cv2.magnitude(cv2.Sobel(values, cv2.CV_32F, 1, 0), cv2.Sobel(values, cv2.CV_32F, 0, 1)) / 8
    edges = gradient > 10
    sharp = edges & (cv2.blur(flat.astype(np.float32), (11, 11)) >= 0.3)
    near_marks = cv2.dilate(marks, np.ones((7, 7), np.uint8)) > 0
    near_sharp = cv2.dilate(sharp.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    tone = ~(flat | near_marks | near_sharp)
    return float(edges.mean()), float(tone.mean())


def split_panels(gray: np.ndarray, options: FeatureOptions) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) of the panels of a figure on a plain light page, in reading order; [] for one picture.

    The page is cut recursively along its gutters, rows or columns of page background right across what is
    being cut (an X-Y cut); letters standing in a gutter are allowed. A blot's lanes or a field's dark gaps are
    not gutters: the page is light and clean, a picture's own background is not.
    """
    height, width = gray.shape
    background = _page_level(gray, options)
    if background is None:
        return []  # not a figure on a plain page
    ink = np.abs(gray.astype(np.float32) - background)
    content = ink > options.page_tolerance
    min_gutter = max(options.panel_min_gutter_px, round(options.panel_min_gutter * min(height, width)))
    leaves: list[tuple[int, int, int, int]] = []

    def cut(x0: int, y0: int, x1: int, y1: int) -> None:
        region = content[y0:y1, x0:x1]
        rows = np.nonzero(region.mean(axis=1) > options.gutter_max_ink)[0]
        cols = np.nonzero(region.mean(axis=0) > options.gutter_max_ink)[0]
        if not len(rows) or not len(cols):
            return
        x0, x1, y0, y1 = x0 + cols[0], x0 + cols[-1] + 1, y0 + rows[0], y0 + rows[-1] + 1
        region = content[y0:y1, x0:x1]
        split = _gutter(region, rows - rows[0], cols - cols[0], min_gutter, options) or _between_frames(
            ink[y0:y1, x0:x1], options
        )
        if split is None:
            leaves.append((int(x0), int(y0), int(x1), int(y1)))
        elif split[0]:
            cut(x0, y0, x1, y0 + split[1])
            cut(x0, y0 + split[1], x1, y1)
        else:
            cut(x0, y0, x0 + split[1], y1)
            cut(x0 + split[1], y0, x1, y1)

    cut(0, 0, width, height)
    boxes = [box for box in leaves if _panel_sized(box, width, height, options)]
    if not boxes or (len(boxes) == 1 and _area(boxes[0]) > 0.8 * width * height):
        return []
    return _reading_order(boxes)


def _page_level(gray: np.ndarray, options: FeatureOptions) -> int | None:
    """The grey level of a figure's plain light page: its border's, or, where panels run to the figure's edges,
    that of the gutters between them, rows or columns right across it of one light level; None for a picture.

    A line counts as a gutter only if nearly all of it is within the border test's few grey levels: a blot's or
    a photograph's own light background is not that even.
    """
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    level = int(np.median(border))
    if level >= options.page_min_level and np.mean(np.abs(border.astype(np.int16) - level) <= 3) >= 0.6:
        return level
    levels = []
    for lines in (gray, gray.T):
        medians = np.median(lines, axis=1, keepdims=True)
        even = np.mean(np.abs(lines.astype(np.int16) - medians) <= 3, axis=1) >= 0.98
        light = medians[:, 0] >= options.page_min_level
        levels.extend(medians[1:-1, 0][(even & light)[1:-1]])  # inside the figure: between two panels
    return int(np.median(levels)) if levels else None


def _gutter(
    region: np.ndarray, rows: np.ndarray, cols: np.ndarray, min_gutter: int, options: FeatureOptions
) -> tuple[bool, int] | None:
    """The widest gutter across a region of page content (inked rows and columns given): (along rows, where)."""
    for inked, along_rows in ((rows, True), (cols, False)):
        gaps = [
            gap
            for gap in np.nonzero(np.diff(inked) > options.panel_thin_gutter_px)[0]
            if not _crossed(region, inked[gap] + 1, inked[gap + 1], along_rows)
            and (
                inked[gap + 1] - inked[gap] > min_gutter
                or _between_pictures(region, inked[gap] + 1, inked[gap + 1], along_rows)
            )
        ]
        if gaps:
            widest = max(gaps, key=lambda gap: inked[gap + 1] - inked[gap])
            return along_rows, int(inked[widest] + 1)
    return None


def _between_frames(ink: np.ndarray, options: FeatureOptions) -> tuple[bool, int] | None:
    """Where framed panels set closer than a gutter meet (their frames touch, or the gutter between them is lost
    to JPEG's ringing), in a region given by how far each pixel is from the page's level: the region ends in
    a few drawn lines on two opposite sides, and inside it lies a band of drawn lines, standing out against one
    side at least (one of the pictures may be as dark as its frame at its edge), that holds two frames' ink;
    (along rows, where) as _gutter, or None. A plot's box is framed by its axes too, but its grid lines are light, and a
    rule drawn dark right across it is one line."""
    width = options.frame_max_width
    for along_rows, levels in ((True, ink), (False, ink.T)):
        if not (_drawn_depth(levels, options) and _drawn_depth(levels[::-1], options)):
            continue
        darkness = levels.mean(axis=1)
        frame = min(darkness[: width + 1].sum(), darkness[-width - 1 :].sum())
        least = max(options.panel_min_side, round(options.panel_min_fraction * len(levels)))
        drawn = np.nonzero(_drawn_lines(levels[least:-least], options))[0] + least
        # bands of lines close together: the facing sides of two frames and what JPEG left between them
        for band in np.split(drawn, np.nonzero(np.diff(drawn) > width)[0] + 1):
            start, stop = (band[0], band[-1] + 1) if len(band) else (0, 0)
            if (
                0 < stop - start < 2 * width
                and darkness[start - 1 : stop + 1].sum() >= options.frame_pair_ink * frame
                and (
                    _stands_out(levels[start:stop], levels[start - width : start], options)
                    or _stands_out(levels[start:stop], levels[stop : stop + width], options)
                )
            ):
                return along_rows, int((start + stop) // 2)
    return None


def _drawn_depth(ink: np.ndarray, options: FeatureOptions) -> int:
    """How deep the drawn lines that start the rows of `ink` reach, when a few do (after a line or two of JPEG's
    ringing); 0 for none, or for more than a frame's width."""
    drawn = _drawn_lines(ink[: options.frame_max_width + 1], options)
    first = int(np.argmax(drawn))
    if not drawn[first] or first > 2 or drawn[first:].all():
        return 0
    return first + int(np.argmin(drawn[first:]))


def _drawn_lines(ink: np.ndarray, options: FeatureOptions) -> np.ndarray:
    """Which lines (rows of `ink`) are drawn lines right across: dark and of one level from end to end, as a
    frame is and a picture's dark background, which its objects break, is not."""
    level = np.median(ink, axis=1, keepdims=True)
    even = (np.abs(ink - level) <= options.frame_level_tolerance).mean(axis=1) >= options.frame_min_ink
    return even & (level[:, 0] >= options.frame_min_darkness)


def _stands_out(lines: np.ndarray, beside: np.ndarray, options: FeatureOptions) -> bool:
    """Whether drawn lines (rows of ink) stand out against the lines beside them: most of one of those is
    lighter than they are, as a chart's white or a photograph is, and a gel's dark lane with its few bands is
    not."""
    if not len(lines) or not len(beside):
        return False
    lighter = beside < np.median(lines) - options.frame_level_tolerance
    return bool(lighter.mean(axis=1).max() >= options.frame_lighter_share)


def _panel_sized(box: tuple[int, int, int, int], width: int, height: int, options: FeatureOptions) -> bool:
    """Large both ways, or a long strip (a blot's); a band or a label alone is not a panel."""
    x0, y0, x1, y1 = box
    wide = x1 - x0 >= max(options.panel_min_side, options.panel_min_fraction * width)
    tall = y1 - y0 >= max(options.panel_min_side, options.panel_min_fraction * height)
    if wide and tall:
        return True
    long_side, reach = (x1 - x0, width) if x1 - x0 >= y1 - y0 else (y1 - y0, height)
    return (
        min(x1 - x0, y1 - y0) >= options.panel_min_thickness
        and long_side >= options.strip_min_fraction * reach
        and _area(box) >= options.panel_min_strip_area * width * height
    )


def _between_pictures(region: np.ndarray, start: int, stop: int, along_rows: bool) -> bool:
    """Whether a thin gutter (rows start:stop, or columns) has straight edges on each side along at least half
    of it: micrographs or framed panels set close, not the curved sides of drawn shapes."""
    lines = region if along_rows else region.T
    for side in (lines[max(start - 3, 0) : start], lines[stop : stop + 3]):
        if not len(side) or max(_straight_share(line) for line in side) < 0.5:
            return False
    return True


def _straight_share(line: np.ndarray) -> float:
    """The share of a line inked in runs of at least a tenth of its length."""
    edges = np.diff(np.concatenate([[0], line.astype(np.int8), [0]]))
    runs = np.nonzero(edges == -1)[0] - np.nonzero(edges == 1)[0]
    return float(runs[runs >= 0.1 * len(line)].sum() / len(line))


def _crossed(region: np.ndarray, start: int, stop: int, along_rows: bool) -> bool:
    """Whether a line runs right across a gutter (rows start:stop, or columns when not along_rows): the axis
    under a chart's bars or a grid line crosses the space between bars; nothing crosses between panels."""
    gutter = region[start:stop] if along_rows else region[:, start:stop].T
    return bool(gutter.all(axis=0).any())


def _reading_order(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Rows of boxes, top to bottom, each left to right; a box whose middle is beside a row's first is in it."""
    rows: list[list[tuple[int, int, int, int]]] = []
    for box in sorted(boxes, key=lambda b: b[1]):
        middle = (box[1] + box[3]) / 2
        if rows and rows[-1][0][1] <= middle <= rows[-1][0][3]:
            rows[-1].append(box)
        else:
            rows.append([box])
    return [box for row in rows for box in sorted(row)]


def _area(box: tuple[int, int, int, int]) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])


def root_sift(descriptors: np.ndarray) -> np.ndarray:
    """RootSIFT (Arandjelovic & Zisserman 2012): L1-normalise, then square root."""
    values = descriptors.astype(np.float32)
    values /= values.sum(axis=1, keepdims=True) + 1e-7
    return np.sqrt(values)


def mirror_descriptors(descriptors: np.ndarray) -> np.ndarray:
    """Descriptors of the horizontally mirrored image at the mirrored keypoints.

    SIFT is not mirror-invariant. Mirroring the image flips the rows of the
    4x4 spatial grid (in the keypoint's frame) and negates orientation bins,
    so the mirrored descriptor is a permutation: no second extraction needed.
    """
    grid = descriptors.reshape(-1, 4, 4, 8)[:, ::-1, :, :]
    return np.ascontiguousarray(grid[..., _MIRRORED_BINS].reshape(-1, 128))


def mirror_keypoints(keypoints: np.ndarray, width: int) -> np.ndarray:
    mirrored = keypoints.copy()
    mirrored[:, 0] = width - 1 - keypoints[:, 0]
    mirrored[:, 3] = (180.0 - keypoints[:, 3]) % 360.0
    return mirrored


_MIRRORED_BINS = [(-o) % 8 for o in range(8)]


def text_mask(gray: np.ndarray) -> np.ndarray:
    """uint8 mask, 255 on text, tick marks, axes, frames and scale bars.

    Such marks are sharp, high-contrast strokes on a flat background: small
    components of a top-hat image (glyphs) or thin straight runs (lines)
    whose surroundings are flat. Blurry objects (cells, bands) and strokes
    in textured surroundings (photographs) are kept.
    """
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (31, 31))
    values = gray.astype(np.float64)
    gradient = cv2.magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1)) / 8.0
    glyphs = np.zeros(gray.shape, np.uint8)
    lines = np.zeros(gray.shape, np.uint8)
    for operation in (cv2.MORPH_BLACKHAT, cv2.MORPH_TOPHAT):
        strokes = cv2.morphologyEx(gray, operation, kernel)
        background = (strokes <= 12).astype(np.float64)
        core = (strokes > 50).astype(np.uint8)
        labels, stats, flat_marks = _flat_marks(core, values, gradient, background, thin=True)
        longest = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
        is_glyph = flat_marks & (longest >= 5) & (longest <= 60) & (stats[:, cv2.CC_STAT_AREA] >= 10)
        glyphs[is_glyph[labels]] = 255

        runs = np.zeros_like(core)
        for run, thick in (((1, 31), (15, 31)), ((31, 1), (31, 15))):
            long_runs = cv2.morphologyEx(core, cv2.MORPH_OPEN, np.ones(run, np.uint8))
            runs |= long_runs & ~cv2.morphologyEx(core, cv2.MORPH_OPEN, np.ones(thick, np.uint8))
        # frames and axes of a rotated copy: straight lines at any angle, longer than any plotted segment
        span = int(0.4 * min(gray.shape))
        segments = cv2.HoughLinesP(core, 1, np.pi / 360, threshold=span // 2, minLineLength=span, maxLineGap=3)
        for x0, y0, x1, y1 in np.zeros((0, 4), np.int32) if segments is None else segments.reshape(-1, 4):
            cv2.line(runs, (int(x0), int(y0)), (int(x1), int(y1)), 1, 3)
        runs &= core
        labels, _, is_line = _flat_marks(runs, values, gradient, background, thin=False)
        lines[is_line[labels]] = 255
    # SIFT centres text keypoints between glyphs, hence the wide margin
    glyphs = cv2.dilate(glyphs, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (11, 11)))
    return glyphs | cv2.dilate(lines, np.ones((5, 5), np.uint8))


def _flat_marks(
    mask: np.ndarray, values: np.ndarray, gradient: np.ndarray, background: np.ndarray, thin: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Components of mask, their stats, and which are sharp-edged, high-contrast marks on a flat surround."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    flat = labels.ravel()
    area = np.maximum(stats[:, cv2.CC_STAT_AREA], 1).astype(np.float64)
    inside_mean = np.bincount(flat, weights=values.ravel(), minlength=count) / area
    ring_mean, ring_std, ring_count = _box_stats(values, background, stats, margin=4)
    contrast = np.abs(inside_mean - ring_mean)
    marks = (contrast >= 80) & (ring_count >= 10) & (ring_std <= 0.08 * contrast)
    if thin:
        # thin strokes are mostly edge: a high mean gradient
        marks &= np.bincount(flat, weights=gradient.ravel(), minlength=count) / area >= 0.25 * contrast
    else:
        # thick bars have flat insides but a steep edge somewhere
        steepest = np.zeros(count, np.float32)
        np.maximum.at(steepest, flat, gradient.ravel())
        marks &= steepest >= 0.3 * contrast
    marks[0] = False
    return labels, stats, marks


def _box_stats(
    values: np.ndarray, weights: np.ndarray, stats: np.ndarray, margin: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, standard deviation and count of weighted pixels in each component's box plus a margin."""
    height, width = values.shape
    total = cv2.integral(weights)
    first = cv2.integral(values * weights)
    second = cv2.integral(values * values * weights)
    x0 = np.maximum(stats[:, 0] - margin, 0)
    y0 = np.maximum(stats[:, 1] - margin, 0)
    x1 = np.minimum(stats[:, 0] + stats[:, 2] + margin, width)
    y1 = np.minimum(stats[:, 1] + stats[:, 3] + margin, height)

    def box(table: np.ndarray) -> np.ndarray:
        return table[y1, x1] - table[y0, x1] - table[y1, x0] + table[y0, x0]

    count = box(total)
    mean = box(first) / np.maximum(count, 1)
    std = np.sqrt(np.maximum(box(second) / np.maximum(count, 1) - mean**2, 0))
    return mean, std, count


def _sift(gray: np.ndarray, text: np.ndarray, options: FeatureOptions) -> tuple[np.ndarray, np.ndarray]:
    # descriptors as uint8: a quarter of the memory, and RootSIFT is taken per comparison anyway
    sift = cv2.SIFT_create(options.sift_max_keypoints, 3, options.sift_contrast_threshold, 10, 1.6, cv2.CV_8U)
    keypoints, descriptors = sift.detectAndCompute(gray, cv2.bitwise_not(text))
    if descriptors is None or not keypoints:
        return np.zeros((0, 4), np.float32), np.zeros((0, 128), np.uint8)
    points = np.array([(k.pt[0], k.pt[1], k.size, k.angle) for k in keypoints], np.float32)
    order = _spread_order(points, np.array([k.response for k in keypoints]), gray.shape)
    # OpenCV 5 hands back float32 even when asked for CV_8U, holding whole numbers up to 255
    return points[order], descriptors[order].astype(np.uint8)


def _spread_order(points: np.ndarray, responses: np.ndarray, shape: tuple[int, int], grid: int = 4) -> np.ndarray:
    """Keypoints in the order the candidate search wants, as it reads only the head of the list.

    The strongest of each cell of a grid come first, then the second strongest
    of each, and so on: faint cells under a bright annotation, or one panel of
    a figure, are not crowded out by a strong region.
    """
    height, width = shape
    column = np.minimum(points[:, 0] * grid // width, grid - 1)
    row = np.minimum(points[:, 1] * grid // height, grid - 1)
    cell = (row * grid + column).astype(np.int64)
    by_cell = np.lexsort((-responses, cell))
    starts = np.searchsorted(cell[by_cell], cell[by_cell], side="left")
    rank = np.empty(len(points), np.int64)
    rank[by_cell] = np.arange(len(points)) - starts
    return np.lexsort((-responses, rank))


def normalise_contrast(gray: np.ndarray) -> np.ndarray:
    """A percentile stretch, then contrast-limited equalisation.

    Faint bands and sparse fluorescence come into SIFT's range, and
    contrast- and gamma-adjusted copies come out alike.
    """
    return equalise(stretch_contrast(gray))


def stretch_contrast(gray: np.ndarray) -> np.ndarray:
    low, high = np.percentile(gray, (0.5, 99.9))
    if high - low < 8:
        return gray
    gain = min(255.0 / (high - low), 3.0)
    return cv2.convertScaleAbs(gray, alpha=gain, beta=-low * gain)


def equalise(gray: np.ndarray) -> np.ndarray:
    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(gray)


def _sift_side(shape: tuple[int, int], options: FeatureOptions) -> int:
    longest = max(shape)
    return min(max(longest, options.sift_min_side), options.sift_max_side)


def resize_longest(gray: np.ndarray, side: int) -> np.ndarray:
    height, width = gray.shape[:2]
    scale = side / max(height, width)
    if abs(scale - 1) < 1e-3:
        return gray
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(gray, size, interpolation=interpolation)


def dihedral(image: np.ndarray) -> list[np.ndarray]:
    """The 8 rotations and flips, in the order of DIHEDRAL_NAMES."""
    views = []
    for flipped in (image, image[:, ::-1]):
        for turns in range(4):
            views.append(np.rot90(flipped, turns))
    return views


# (mirrored, counter-clockwise quarter turns) applied to the image
DIHEDRAL_NAMES = [(flip, turns) for flip in (False, True) for turns in range(4)]


def inverse_view(view: int) -> int:
    """The dihedral view that undoes `view` (mirror first, then quarter turns)."""
    mirrored, turns = divmod(view, 4)
    return view if mirrored else (4 - turns) % 4


def _signature(gray: np.ndarray, side: int) -> np.ndarray:
    thumb = cv2.resize(gray, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)
    views = np.stack([v.ravel() for v in dihedral(thumb)])
    views -= views.mean(axis=1, keepdims=True)
    views /= np.linalg.norm(views, axis=1, keepdims=True) + 1e-6
    return views.astype(np.float32)


def _clip_input(rgb: np.ndarray, side: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    scale = side / min(height, width)
    size = (max(side, round(width * scale)), max(side, round(height * scale)))
    resized = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    top = (size[1] - side) // 2
    left = (size[0] - side) // 2
    return np.ascontiguousarray(resized[top : top + side, left : left + side])
