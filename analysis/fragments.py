"""What the run page shows, shared by its first render, its htmx requests and the websocket consumer."""

import base64
import io
import math
from collections import Counter
from dataclasses import dataclass

import cv2
import numpy as np
from django.db.models import QuerySet
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from PIL import Image

from analysis.engine.evidence import describe_change, describe_crop, intensity_change, second_onto_first
from analysis.engine.stages import DUPLICATE, FINDINGS, SIMILAR, STAGES
from analysis.models import Pair, Review, Run

TOP_PAIRS = 10
MORE_PAIRS = 40
SIMILAR_SHOWN = 50


@dataclass
class StageRow:
    key: str
    label: str
    state: str  # "done", "current", "waiting" or "skipped"
    done: int
    total: int
    seconds: float | None


def stage_rows(run: Run) -> list[StageRow]:
    order = list(STAGES)
    current = order.index(run.stage) if run.stage in STAGES else -1
    rows = []
    for index, (key, label) in enumerate(STAGES.items()):
        if run.status == Run.Status.DONE or index < current:
            state = "done"
        elif index == current:
            state = "current"
        else:
            state = "waiting"
        if (key == "library" and not run.library_id) or (key == "keeping" and not (run.library_id and run.keep)):
            continue
        if key == "clip" and state == "done" and run.clip_notice:
            state = "skipped"
        done, total = (run.stage_done, run.stage_total) if state == "current" else (int(state == "done"), 1)
        rows.append(StageRow(key, label, state, done, total, run.timings.get(key)))
    return rows


REVIEW_FILTERS = {"": "All pairs", "unreviewed": "Not reviewed yet", **dict(Review.Decision.choices)}


def files_and_items(run: Run) -> str:
    """How the files became the items compared, for people: "27 files, 2 skipped; paper.pdf gave 3 items"."""
    files = run.uploads.count()
    words = [f"{files} file{pluralize(files)}"]
    if run.skipped_count:
        words.append(f", {run.skipped_count} skipped")
    per_file = Counter(run.items.filter(skipped="", library_origin="").values_list("upload__name", flat=True))
    several = [(name, count) for name, count in per_file.most_common() if name and count > 1]
    if several:
        shown = ", ".join(f"{name} gave {count} items" for name, count in several[:3])
        more = f" and {len(several) - 3} more files gave several" if len(several) > 3 else ""
        words.append(f"; {shown}{more} (pages, embedded images)")
    words.append(f": {run.item_count} item{pluralize(run.item_count)} compared")
    return "".join(words)


def run_context(run: Run, top: int = TOP_PAIRS, review: str = "", hide_dismissed: bool = False) -> dict:
    """The findings first: duplicates, then similar pairs; a pair with no verdict is no finding and is only in
    the all-pairs CSV."""
    context = {"run": run, "stages": stage_rows(run), "top": top}
    if run.is_over:
        pairs = run.pairs.select_related("first", "second")
        filters = (run.owner, review, hide_dismissed)
        duplicates, matching = reviewed_pairs(pairs.filter(verdict=DUPLICATE), top, *filters)
        similar, similar_matching = reviewed_pairs(pairs.filter(verdict=SIMILAR), SIMILAR_SHOWN, *filters)
        context["duplicates"], context["similar"], context["similar_matching"] = duplicates, similar, similar_matching
        context["more_duplicates"] = min(matching, top + MORE_PAIRS) if matching > top else 0
        context["findings_count"] = pairs.filter(verdict__in=FINDINGS).count()
        context["review_filters"] = REVIEW_FILTERS
        context["review"], context["hide_dismissed"] = review, hide_dismissed
        context["groups"] = run.groups.prefetch_related("members__item")
        context["files_and_items"] = files_and_items(run)
        context["skipped"] = run.items.exclude(skipped="")
    return context


def reviewed_pairs(pairs: QuerySet[Pair], top: int, owner, review: str, hide_dismissed: bool) -> tuple[list[Pair], int]:
    """The best `top` of pairs that pass the filters, each with `.review` (its newest verdict or None),
    and how many pass in all."""
    if not review and not hide_dismissed:
        shown = list(pairs[:top])
        latest = Review.latest_for(shown, owner)
        for pair in shown:
            pair.review = latest.get(pair.pk)
        return shown, pairs.count()
    every = list(pairs)
    latest = Review.latest_for(every, owner)
    matching = []
    for pair in every:
        pair.review = latest.get(pair.pk)
        decision = pair.review.decision if pair.review else "unreviewed"
        if (not review or decision == review) and not (hide_dismissed and pair.review and pair.review.dismissed):
            matching.append(pair)
    return matching[:top], len(matching)


def live_html(run: Run) -> str:
    """The run page's live parts, each with the id that the htmx ws extension swaps."""
    context = run_context(run)
    html = render_to_string("analysis/run_detail.html#progress", context)
    if run.is_over:
        html += render_to_string("analysis/run_detail.html#results", context)
    return html


@dataclass
class PairDrawing:
    """Both items side by side in one SVG, scaled to one height, with the evidence on top."""

    width: float
    height: float
    second_x: float
    first_width: float
    second_width: float
    region1: tuple[float, float, float, float] | None  # x, y, width, height in drawing units
    region2: tuple[float, float, float, float] | None
    lines: list[tuple[float, float, float, float]]


def pair_drawing(pair: Pair, height: float = 400, gap: float = 24, max_lines: int = 150) -> PairDrawing:
    first_width = height * pair.first.width / max(pair.first.height, 1)
    second_width = height * pair.second.width / max(pair.second.height, 1)
    second_x = first_width + gap

    def box(region, x0, width):
        if not region:
            return None
        return (
            x0 + region[0] * width,
            region[1] * height,
            (region[2] - region[0]) * width,
            (region[3] - region[1]) * height,
        )

    step = max(1, math.ceil(len(pair.points1) / max_lines))
    lines = [
        (a[0] * first_width, a[1] * height, second_x + b[0] * second_width, b[1] * height)
        for a, b in zip(pair.points1[::step], pair.points2[::step], strict=True)
    ]
    return PairDrawing(
        width=second_x + second_width,
        height=height,
        second_x=second_x,
        first_width=first_width,
        second_width=second_width,
        region1=box(pair.region1, 0, first_width),
        region2=box(pair.region2, second_x, second_width),
        lines=lines,
    )


def pair_views(pair: Pair) -> tuple[np.ndarray, np.ndarray]:
    """Both items' views as RGB arrays: decoded once, for every picture and finding of the pair."""

    def view(item) -> np.ndarray:
        with item.preview.open("rb") as stored, Image.open(stored) as picture:
            return np.asarray(picture.convert("RGB"))

    return view(pair.first), view(pair.second)


def panel_jpeg(item, panel: int, side: int = 256) -> bytes:
    """A thumbnail of one panel (numbered from 1) of a figure, cut from the figure's view."""
    x0, y0, x1, y1 = item.panels[panel - 1]
    with item.preview.open("rb") as stored, Image.open(stored) as picture:
        scale = picture.width / item.width
        crop = picture.convert("RGB").crop((round(x0 * scale), round(y0 * scale), round(x1 * scale), round(y1 * scale)))
    crop.thumbnail((side, side))
    return _jpeg(np.asarray(crop), 85)


def _jpeg(rgb: np.ndarray, quality: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def pair_overlay(pair: Pair, views: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The second item's view laid onto the first's by the found transform, and where it lands."""
    first, second = views
    size1, size2 = (pair.first.width, pair.first.height), (pair.second.width, pair.second.height)
    return second_onto_first(first, second, pair.matrix, pair.mirrored, size1, size2)


def overlay_jpeg(pair: Pair) -> bytes:
    warped, _ = pair_overlay(pair, pair_views(pair))
    return _jpeg(warped, 88)


def pair_findings(pair: Pair, views: tuple[np.ndarray, np.ndarray]) -> list[str]:
    """The transform in words: orientation and scale, how much each image the shared part is, contrast."""
    if pair.matrix is None:
        return []
    warped, covered = pair_overlay(pair, views)
    return [
        pair.transform,
        describe_crop(pair.region1, pair.region2),
        describe_change(intensity_change(views[0], warped, covered)),
    ]


def evidence_jpeg(pair: Pair, views: tuple[np.ndarray, np.ndarray], height: int = 300, max_lines: int = 60) -> bytes:
    """Both views side by side at one height, the matched regions outlined and some inliers joined."""
    widths = [round(height * view.shape[1] / view.shape[0]) for view in views]
    gap = 12
    canvas = np.full((height, widths[0] + gap + widths[1], 3), 255, np.uint8)
    canvas[:, : widths[0]] = cv2.resize(views[0], (widths[0], height), interpolation=cv2.INTER_AREA)
    canvas[:, widths[0] + gap :] = cv2.resize(views[1], (widths[1], height), interpolation=cv2.INTER_AREA)
    offsets = (0, widths[0] + gap)

    def place(point, side: int) -> tuple[int, int]:
        return (offsets[side] + round(point[0] * widths[side]), round(point[1] * height))

    step = max(1, math.ceil(len(pair.points1) / max_lines))
    for a, b in zip(pair.points1[::step], pair.points2[::step], strict=True):
        cv2.line(canvas, place(a, 0), place(b, 1), (25, 195, 125), 1, cv2.LINE_AA)
    for side, region in enumerate((pair.region1, pair.region2)):
        if region:
            cv2.rectangle(canvas, place(region[:2], side), place(region[2:], side), (255, 59, 48), 2)
    return _jpeg(canvas, 82)


def _finding(pair: Pair, review: Review | None) -> dict:
    views = pair_views(pair)
    return {
        "pair": pair,
        "review": review,
        "evidence": "data:image/jpeg;base64," + base64.b64encode(evidence_jpeg(pair, views)).decode(),
        "findings": pair_findings(pair, views),
    }


def report_context(run: Run) -> dict:
    """Everything the downloadable report records: inputs, settings, software, findings with evidence."""
    flagged = list(run.pairs.exclude(verdict="").select_related("first", "second"))
    reviews = Review.latest_for(flagged, run.owner)
    findings = [_finding(pair, reviews.get(pair.pk)) for pair in flagged]
    return {
        "run": run,
        "uploads": run.uploads.all(),
        "findings": findings,
        "groups": run.groups.prefetch_related("members__item"),
        "skipped": run.items.exclude(skipped=""),
        "settings": sorted(_flatten(run.settings).items()),
    }


def _flatten(values: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
