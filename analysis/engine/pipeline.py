"""The whole analysis: read, embed, find candidates, verify, group.

Progress is reported as (stage, done, total) through a callback, so that the
command line and the web app show the same stages.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np

from . import candidates, confidence, embed, significance
from .alignment import Alignment
from .candidates import CandidateOptions
from .clones import CloneOptions
from .features import FeatureOptions, ItemFeatures, inverse_view
from .groups import connected_groups
from .library import Entry, Library
from .names import library_name, panel_name
from .readers import ReaderOptions, read_in_processes
from .sources import Limits, Placement, Skipped, SourceFile
from .stages import DUPLICATE, SIMILAR
from .verify import (
    RootSift,
    VerifyOptions,
    align_by_keypoints,
    align_whole,
    best_device,
    contradictions,
    lift,
    marked_agreement,
    pattern_agreement,
    solid_differences,
    tone_agreement,
)

VERDICT_ORDER = {DUPLICATE: 0, SIMILAR: 1, "": 2}
CLOSER = 0.02  # content agreement by which a panel pair's evidence must beat its figures'

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class VerdictOptions:
    """Thresholds of the verdicts; their measured effect is in the README."""

    # Aligned true copies agree in 93-100% of textured blocks, unrelated look-alikes
    # in at most 55-65%, whatever their inlier count: the agreement decides.
    duplicate_inliers: int = 5
    duplicate_content: float = 0.75
    duplicate_blocks: int = 12
    # charts of one house style share axes, ticks, grids and legends: in the first generator's bar charts 31%
    # of aligned blocks agree between charts of different data, in gridded styles far more. Their data marks
    # make the rest, so two charts must agree nearly everywhere
    chart_content: float = 0.9
    # many distinct, consistent inliers are evidence of their own: fewer blocks need confirm them
    strong_inliers: int = 40
    strong_inliers_blocks: int = 6
    whole_image_content: float = 0.8
    whole_image_blocks: int = 12
    similar_inliers: int = 8
    similar_content: float = 0.5
    similar_clip: float = 0.92
    # expected false duplicates per run, whatever its size: a match must be rarer by chance than this
    # among all the comparisons the run makes (significance.py)
    max_false_alarms: float = 0.01
    # a fit with too few textured blocks to check densely: false duplicates of the growth set's blots reach
    # 1e-17 by chance, true copies with 2-5 blocks 1e-68 to 1e-320 (seed 301)
    keypoints_alone_false_alarms: float = 1e-40
    # and most of its matches agree: true copies' 58-72%
    keypoints_alone_share: float = 0.5
    # with no keypoint evidence, blots of one layout agree block by block in their equalised pictures, but
    # in tone only in 60-93% of their blocks (growth set, seed 301); whole-image copies in 92-100% (the first
    # generator's seed 7). With keypoints, copies rotated or edited twice can agree in tone in 30% only:
    # tone is weighed only where nothing else speaks (verify.tone_agreement)
    whole_image_tone: float = 0.9
    # blots of one layout agree block by block in shape, not in which bands are strong and which faint
    # (verify.pattern_agreement): false duplicates of the growth set's blots at -0.56 to 0.39 (seed 302, 1,000
    # pictures), and at 3,000 pictures 10 more at 0.50 to 0.88, on 5-10 inliers at 1e-2 to 1e-13. True copies
    # with as weak a fit: 0.93 to 1.0 but for 2 of 226 (0.59 and 0.85; the first generator's seed 7, the
    # second's seed 101), and 7 annotated at 0.21 or less. Asked of a match that is not far beyond chance, a
    # chart's too: blots on a flat background are classed as drawings, and the marks rule matched three of
    # seed 302's to their kin
    pattern_agreement: float = 0.9
    pattern_free_false_alarms: float = 1e-20
    # charts of one style whose data differ show, with their marks compared too, 7-18 aligned blocks of
    # differing structure (verify.contradictions; growth set seed 302, 1,000 pictures), though their grids and
    # labels gave 18-48 inliers at up to 1e-119 by chance; copies 0, annotated ones 2-4 (the first generator's
    # seed 7, the second's seed 101). At 3,000 pictures, bar charts of one style whose bars differ a little
    # showed 3-5, their jittered points standing alone on each side (counted too since: chart false duplicates
    # 15 -> 5 there, every copy's verdict unchanged). Beyond 1e-300 false alarms no layout explains the fit:
    # an annotated copy of a photograph whose contrast edit makes it look drawn (16 differing blocks, 526
    # inliers at 1e-2061)
    chart_contradictions: int = 5
    chart_free_false_alarms: float = 1e-300
    # charts of one style whose bars stand at other heights differ in tone over an area, flat on both sides
    # (verify.solid_differences): 3 of growth set seed 302's 5 chart false duplicates at 3,000 pictures, bars
    # 0.06 to 0.4 of the axis apart, over 1.3-3.2% of the shared region. Chart copies: 0.03% at most on the
    # first generator's seed 7 and the second's seed 101, annotated ones included; but a heatmap re-levelled
    # channel by channel, whose colours no longer keep their order in grey, 0.47% (the second's seed 202)
    chart_solid_difference: float = 0.01


@dataclass(frozen=True)
class Options:
    model: str = "ViT-B-32"
    use_clip: bool = True
    clip_weights: str | None = None
    clip_cache_dir: str | None = None
    clip_batch_size: int = 64
    workers: int = 0  # reading processes, and threads that search and verify: 0, one per CPU core
    preview_dir: str | None = None  # where to write each item's thumbnail and view (previews.py)
    limits: Limits = field(default_factory=Limits)
    features: FeatureOptions = field(default_factory=FeatureOptions)
    candidates: CandidateOptions = field(default_factory=CandidateOptions)
    verify: VerifyOptions = field(default_factory=VerifyOptions)
    clones: CloneOptions = field(default_factory=CloneOptions)
    verdicts: VerdictOptions = field(default_factory=VerdictOptions)


Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in an item's pixels
Place = tuple[int, int | None]  # an item, and one of its panels (numbered from 1) or None for all of it


@dataclass
class Item:
    name: str
    original_size: tuple[int, int]
    keypoints: int
    kind: str = "image"  # as in sources.ItemRef
    page: int | None = None
    preview: str | None = None  # key of its pictures in Options.preview_dir
    panels: list[Box] = field(default_factory=list)  # a figure's picture panels, in reading order
    chart: bool = False  # a chart or schematic (features.drawing)
    library: str | None = None  # the key of the library entry it is, for an item kept from an earlier run
    placement: Placement | None = None  # an embedded image's place on its PDF page (sources.Decoded)
    seconds: float = 0.0  # time taken to read it (features.ItemFeatures)

    def place_name(self, panel: int | None) -> str:
        name = library_name(self.name) if self.library else self.name
        return name if panel is None else panel_name(name, panel)


@dataclass
class Pair:
    """Two places that share pixels: in two items, or in one (two panels of a figure, a region cloned in it).

    The alignment is between the items; the panels name where in them the shared region lies.
    """

    first: int
    second: int
    clip_score: float | None
    local_matches: int
    verdict: str  # DUPLICATE, SIMILAR or ""
    alignment: Alignment | None
    confidence: float = 0.0  # the calibrated probability that it is a true duplicate
    first_panel: int | None = None
    second_panel: int | None = None
    seconds: float = 0.0  # time taken to verify it

    @property
    def places(self) -> tuple[Place, Place]:
        return (self.first, self.first_panel), (self.second, self.second_panel)

    @property
    def within(self) -> bool:
        """Both sides in one item: a copy inside a figure or a picture."""
        return self.first == self.second

    @property
    def evidence(self) -> list[float]:
        """The confidence model's inputs."""
        a = self.alignment
        return confidence.features(
            self.verdict == DUPLICATE,
            a.inliers if a else 0,
            a.content if a else None,
            a.blocks if a else 0,
            a.region1 if a else None,
            a.region2 if a else None,
            self.clip_score,
            a.false_alarms if a else None,
        )

    @property
    def transform(self) -> str:
        return self.alignment.transform.describe() if self.alignment else ""


@dataclass
class Result:
    items: list[Item]  # the files' items, then the library entries they were compared with
    skipped: list[Skipped]
    pairs: list[Pair]  # every verified pair of the files' items, best first, and the findings with library entries
    groups: list[list[Place]]  # places that are copies of each other, across items
    clip_notice: str | None  # why the CLIP stage did not run, None when it did
    timings: dict[str, float]
    kept: list[Entry] = field(default_factory=list)  # what a library keeps of each of the files' items

    @property
    def own_items(self) -> list[Item]:
        return [item for item in self.items if item.library is None]

    @property
    def duplicates(self) -> list[Pair]:
        return [pair for pair in self.pairs if pair.verdict == DUPLICATE]

    def place_name(self, place: Place) -> str:
        item, panel = place
        return self.items[item].place_name(panel)


class Cancelled(Exception):
    pass


def find_duplicates(
    files: Sequence[SourceFile],
    options: Options | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    library: Library | None = None,
) -> Result:
    """Copies among the files' items, and between them and the library's entries when a library is given."""
    options = options or Options()
    report = progress or (lambda stage, done, total: None)
    check = _checker(cancelled)
    started = time.perf_counter()
    units, skipped = _read(files, options, report, check)
    reading = time.perf_counter() - started
    check()
    result = compare(units, skipped, options, progress, cancelled, library)
    result.timings = {"reading": reading, **result.timings}
    return result


def _checker(cancelled: Callable[[], bool] | None) -> Callable[[], None]:
    def check() -> None:
        if cancelled and cancelled():
            raise Cancelled

    return check


def compare(
    units: list[ItemFeatures],
    skipped: list[Skipped],
    options: Options,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    library: Library | None = None,
) -> Result:
    """Every stage after reading, on the features that reading gave (items, then panels, as `_read` lists them)."""
    report = progress or (lambda stage, done, total: None)
    check = _checker(cancelled)
    timings: dict[str, float] = {}
    # units are the items, then the panels cut from multi-panel figures
    whole = [unit for unit in units if unit.parent is None]
    index_of = {unit.name: number for number, unit in enumerate(whole)}
    units = whole + [unit for unit in units if unit.parent is not None]
    owner = list(range(len(whole))) + [index_of[unit.parent] for unit in units[len(whole) :]]

    started = time.perf_counter()
    embeddings, clip_notice = _embed(whole, options, report)
    timings["clip"] = time.perf_counter() - started
    check()

    started = time.perf_counter()
    device = best_device()
    found, panel_pairs = _candidates(units, owner, embeddings, options, device, report)
    # a PDF page's rendering holds its embedded images by construction: no finding
    for first, second in list(found):
        if whole[first].inside == whole[second].name or whole[second].inside == whole[first].name:
            del found[(first, second)]
    timings["candidates"] = time.perf_counter() - started
    check()

    kept = [
        Entry("", [], None if embeddings is None else embeddings[number], options.model) for number in range(len(whole))
    ]
    for unit, number in zip(units, owner, strict=True):
        kept[number].units.append(unit)  # the picture first, then its panels
    own = len(whole)
    if library is not None:
        started = time.perf_counter()
        report("library", 0, 1)
        embeddings = _from_library(library, units, owner, whole, embeddings, found, options)
        report("library", 1, 1)
        timings["library"] = time.perf_counter() - started
        check()

    items = [
        Item(
            f.name,
            f.original_size,
            len(f.keypoints),
            f.kind,
            f.page,
            f.preview,
            f.panels,
            f.chart,
            placement=f.placement,
            seconds=f.seconds,
        )
        for f in whole
    ]
    for item, features in zip(items[own:], whole[own:], strict=True):
        item.library = features.library
    started = time.perf_counter()
    # every unit is implicitly compared with every other (and with every library entry) by the candidate search
    tests = significance.pair_tests(len(units), 1) + (len(units) * library.size if library is not None else 0)
    descriptors = RootSift(device)
    jobs = [
        partial(_verify, units, whole, embeddings, first, second, tries, options, descriptors, tests)
        for (first, second), tries in sorted(found.items())
    ] + [
        partial(_verify_panels, units, whole, owner[u], u, v, view, options, descriptors, tests)
        for (u, v), view in sorted(panel_pairs.items())
    ]
    pairs = []
    for done, pair in enumerate(_run_all(jobs, _threads(options)), start=1):
        # panels of one figure are expected to differ, library entries to be unrelated: only findings are shown
        if pair.verdict or not (pair.within or pair.second >= own):
            pairs.append(_named(pair, items))
        if done % 20 == 0 or done == len(jobs):
            report("verifying", done, len(jobs))
            check()
    pairs = _one_finding_per_copy(_with_clones(pairs, whole, items), whole, index_of)
    pairs.sort(key=_pair_rank)
    timings["verifying"] = time.perf_counter() - started

    started = time.perf_counter()
    # a region copied inside one picture (or one panel) is a finding, not a group of pictures
    linked = [p.places for p in pairs if p.verdict == DUPLICATE and p.places[0] != p.places[1]]
    # grouped as (item, panel or 0), which sort
    grouped = connected_groups(((i, a or 0), (j, b or 0)) for (i, a), (j, b) in linked)
    groups = [[(item, panel or None) for item, panel in group] for group in grouped]
    report("grouping", 1, 1)
    timings["grouping"] = time.perf_counter() - started
    return Result(items, skipped, pairs, groups, clip_notice, timings, kept)


def _threads(options: Options) -> int:
    return options.workers or os.cpu_count() or 1


def _run_all(jobs: list[Callable[[], Pair]], threads: int) -> Iterator[Pair]:
    """Each job's pair, in the jobs' order, the jobs run in `threads` threads.

    Threads, not processes: matching, RANSAC and the dense checks run in torch, OpenCV and numpy, which let go
    of the GIL, and every job reads the features of many items, which processes would have to be sent. Each
    job's torch work runs on one core, the threads being as many as the cores; stopping early (a cancelled
    run) drops the jobs not yet started.
    """
    import torch

    def timed(job: Callable[[], Pair]) -> Pair:
        started = time.perf_counter()
        pair = job()
        pair.seconds = time.perf_counter() - started
        return pair

    if threads == 1:
        yield from map(timed, jobs)
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    pool = ThreadPoolExecutor(threads)
    try:
        yield from pool.map(timed, jobs)
    finally:
        pool.shutdown(cancel_futures=True)
        torch.set_num_threads(before)


def _read(
    files: Sequence[SourceFile], options: Options, report: Progress, check: Callable[[], None]
) -> tuple[list[ItemFeatures], list[Skipped]]:
    total = len(files)
    report("reading", 0, total)

    def on_done(done: int) -> None:
        report("reading", done, total)
        check()

    workers = _threads(options)
    reader_options = ReaderOptions(
        options.limits, options.features, options.verify, options.clones, options.preview_dir
    )
    # every file in a watched reader, with its memory cap, time limit and crash isolation: one file alone too
    results = read_in_processes(files, reader_options, workers, on_done)
    features = [item for found, _ in results for item in found]
    skipped = [item for _, lost in results for item in lost]
    return features, skipped


def _embed(features: list[ItemFeatures], options: Options, report: Progress) -> tuple[np.ndarray | None, str | None]:
    if not options.use_clip:
        return None, "semantic ranking turned off: CLIP was not run"
    try:
        clip = embed.load_clip(
            options.model,
            weights=options.clip_weights,
            cache_dir=options.clip_cache_dir,
        )
    except embed.ClipUnavailable as exc:
        return None, f"semantic ranking unavailable: {exc}"
    images = np.stack([f.clip_input for f in features]) if features else np.zeros((0, 1, 1, 3), np.uint8)
    vectors = embed.embed(clip, images, options.clip_batch_size, lambda done, total: report("clip", done, total))
    return vectors, None


def _candidates(
    units: list[ItemFeatures],
    owner: list[int],
    embeddings: np.ndarray | None,
    options: Options,
    device,
    report: Progress,
) -> tuple[dict[tuple[int, int], dict[tuple[int, int], int | None]], dict[tuple[int, int], int | None]]:
    """Pairs to verify, with the dihedral view the signature found, if it did.

    Item pairs, each with the unit pairs to try; and pairs of panels of one figure.
    """
    report("candidates", 0, len(units))
    unit_pairs: dict[tuple[int, int], int | None] = {}
    if embeddings is not None and len(embeddings) > 1:
        # CLIP ranks whole items, which are the first units
        unit_pairs.update(dict.fromkeys(candidates.clip_pairs(embeddings, options.candidates, device)))
    local = candidates.local_pairs(
        units, options.candidates, lambda done, total: report("candidates", done, total), _threads(options)
    )
    unit_pairs.update(dict.fromkeys(local))
    _, views = candidates.global_pairs(units, options.candidates, device)
    unit_pairs.update(views)

    found: dict[tuple[int, int], dict[tuple[int, int], int | None]] = {}
    panel_pairs: dict[tuple[int, int], int | None] = {}
    for (u, v), view in unit_pairs.items():
        i, j = owner[u], owner[v]
        if i == j:
            # two panels of one figure; a figure and its own panel share pixels by construction
            if units[u].parent is not None and units[v].parent is not None:
                panel_pairs[(u, v)] = view
            continue
        if i > j:
            u, v, i, j = v, u, j, i
            view = None if view is None else inverse_view(view)
        tries = found.setdefault((i, j), {(i, j): None})  # the whole items first
        if view is not None or (u, v) not in tries:
            tries[(u, v)] = view
    report("candidates", len(units), len(units))
    return found, panel_pairs


def _from_library(
    library: Library,
    units: list[ItemFeatures],
    owner: list[int],
    whole: list[ItemFeatures],
    embeddings: np.ndarray | None,
    found: dict[tuple[int, int], dict[tuple[int, int], int | None]],
    options: Options,
) -> np.ndarray | None:
    """Loads the library entries that the items may share pixels with as items of their own, after the files'
    items, and adds their pairs to `found`; returns the embeddings with the entries' (NaN where none fits)."""
    matches = library.search(units, owner, embeddings, options.model, options.candidates)
    first_unit: dict[str, int] = {}
    vectors = []
    for key in sorted({match.key for match in matches}):
        try:
            entry = library.load(key)
        except FileNotFoundError:
            continue  # removed since the search
        first_unit[key] = len(units)
        entry.units[0].library = key
        whole.append(entry.units[0])
        units.extend(entry.units)
        owner.extend([len(whole) - 1] * len(entry.units))
        if embeddings is not None:
            fits = entry.embedding is not None and entry.model == options.model
            vectors.append(entry.embedding if fits else np.full(embeddings.shape[1], np.nan, np.float32))
    for match in matches:
        if match.key not in first_unit:
            continue
        u, v = match.unit, first_unit[match.key] + match.entry_unit
        i, j = owner[u], owner[v]
        tries = found.setdefault((i, j), {(i, first_unit[match.key]): None})  # the whole items first
        if match.view is not None or (u, v) not in tries:
            tries[(u, v)] = match.view
    if embeddings is None or not vectors:
        return embeddings
    return np.concatenate([embeddings, np.stack(vectors).astype(embeddings.dtype)])


def _verify(
    units: list[ItemFeatures],
    items: list[ItemFeatures],
    embeddings: np.ndarray | None,
    first: int,
    second: int,
    tries: dict[tuple[int, int], int | None],
    options: Options,
    descriptors: RootSift,
    tests: float,
) -> Pair:
    """The best evidence over the unit pairs of two items (the items themselves, their panels)."""
    clip_score = float(embeddings[first] @ embeddings[second]) if embeddings is not None else None
    if clip_score is not None and np.isnan(clip_score):
        clip_score = None  # a library entry kept without an embedding of this model
    best_verdict, best = "", None
    # a chart's panels (its plot area, its legend) are parts of a chart, whatever they look like alone
    both_charts = items[first].chart and items[second].chart
    for (u, v), view in list(tries.items())[: options.candidates.unit_pairs_per_item_pair]:
        verdict, alignment = _verify_units(units[u], units[v], view, options, descriptors, tests, both_charts)
        if alignment is None:
            continue
        alignment = lift(
            alignment, _box(units[u]), items[first].original_size, _box(units[v]), items[second].original_size
        )
        # a whole figure's match may rest on one shared panel: its own pair, agreeing better, names it
        if best is None or _stronger(verdict, alignment, best_verdict, best):
            best_verdict, best = verdict, alignment
        if best_verdict == DUPLICATE and best.content >= 1.0 - CLOSER:
            break  # no other unit pair could agree closer
    # to CLIP, any two bar charts or pathway diagrams look alike: for charts only shared pixels count
    if not best_verdict and not both_charts and clip_score is not None and clip_score >= options.verdicts.similar_clip:
        best_verdict = SIMILAR
    pair = Pair(first, second, clip_score, best.inliers if best else 0, best_verdict, best)
    pair.confidence = confidence.confidence(pair.evidence)
    return pair


def _stronger(verdict: str, alignment: Alignment, best_verdict: str, best: Alignment) -> bool:
    """Duplicates first; among duplicates the closer agreement (the whole items on a tie); else more inliers."""
    if verdict != best_verdict:
        return VERDICT_ORDER[verdict] < VERDICT_ORDER[best_verdict]
    if verdict == DUPLICATE:
        return alignment.content > best.content + CLOSER
    return alignment.inliers > best.inliers


def _verify_panels(
    units: list[ItemFeatures],
    items: list[ItemFeatures],
    item: int,
    first: int,
    second: int,
    view: int | None,
    options: Options,
    descriptors: RootSift,
    tests: float,
) -> Pair:
    """Two panels of one figure, as a pair of the figure with itself."""
    verdict, alignment = _verify_units(
        units[first], units[second], view, options, descriptors, tests, items[item].chart
    )
    if alignment is not None:
        size = items[item].original_size
        alignment = lift(alignment, _box(units[first]), size, _box(units[second]), size)
    pair = Pair(item, item, None, alignment.inliers if alignment else 0, verdict, alignment)
    pair.confidence = confidence.confidence(pair.evidence)
    return pair


def _named(pair: Pair, items: list[Item]) -> Pair:
    """The pair with each side named by the panel its shared region lies in, if it lies in one."""
    if pair.alignment is not None:
        pair.first_panel = _panel_at(pair.alignment.region1, items[pair.first])
        pair.second_panel = _panel_at(pair.alignment.region2, items[pair.second])
    return pair


def _panel_at(region: tuple[float, float, float, float], item: Item) -> int | None:
    """The panel that holds most of a region given in fractions of the item's size."""
    width, height = item.original_size
    x0, y0, x1, y1 = region[0] * width, region[1] * height, region[2] * width, region[3] * height
    area = max((x1 - x0) * (y1 - y0), 1e-9)
    for number, (px0, py0, px1, py1) in enumerate(item.panels, start=1):
        inside = max(0.0, min(x1, px1) - max(x0, px0)) * max(0.0, min(y1, py1) - max(y0, py0))
        if inside >= 0.75 * area:  # a region drawn with a margin may stick out of its panel a little
            return number
    return None


def _with_clones(pairs: list[Pair], whole: list[ItemFeatures], items: list[Item]) -> list[Pair]:
    """The pairs, and each region copied inside a picture that no pair of its panels already shows."""
    found = [p for p in pairs if p.within and p.verdict == DUPLICATE]
    shown = {(p.first, *sorted((p.first_panel or 0, p.second_panel or 0))) for p in found}
    for number, features in enumerate(whole):
        if features.clone is None:
            continue
        # each picture is searched once for a copy inside it
        found = replace(features.clone, false_alarms=features.clone.chance + math.log10(len(whole)))
        clone = _named(Pair(number, number, None, found.inliers, DUPLICATE, found), items)
        if (number, *sorted((clone.first_panel or 0, clone.second_panel or 0))) not in shown:
            clone.confidence = confidence.confidence(clone.evidence)
            pairs.append(clone)
    return pairs


def _verify_units(
    a: ItemFeatures,
    b: ItemFeatures,
    view: int | None,
    options: Options,
    descriptors: RootSift,
    tests: float,
    charts: bool = False,
) -> tuple[str, Alignment | None]:
    """The verdict on two units and its evidence; `charts`: they belong to two charts (or to one)."""
    thresholds = options.verdicts

    def weighed(alignment: Alignment | None) -> Alignment | None:
        if alignment is not None:
            alignment.false_alarms = alignment.chance + math.log10(tests)
        return alignment

    def significant(alignment: Alignment, false_alarms: float = thresholds.max_false_alarms) -> bool:
        return alignment.false_alarms <= math.log10(false_alarms)

    def alike_in_tone(alignment: Alignment) -> bool:
        alignment.tone = tone_agreement(a, b, alignment.matrix, alignment.mirrored, options.verify)
        return alignment.tone is None or alignment.tone >= thresholds.whole_image_tone

    def alike_in_data(alignment: Alignment) -> bool:
        if not of_a_chart or significant(alignment, thresholds.chart_free_false_alarms):
            return True
        alignment.contradictions = contradictions(a, b, alignment.matrix, alignment.mirrored, options.verify)
        alignment.solid = solid_differences(a, b, alignment.matrix, alignment.mirrored, options.verify)
        return alignment.contradictions <= thresholds.chart_contradictions and (
            alignment.solid is None or alignment.solid <= thresholds.chart_solid_difference
        )

    def alike_in_pattern(alignment: Alignment) -> bool:
        if significant(alignment, thresholds.pattern_free_false_alarms):
            return True
        alignment.pattern = pattern_agreement(a, b, alignment.matrix, alignment.mirrored, options.verify)
        return alignment.pattern is None or alignment.pattern >= thresholds.pattern_agreement

    def alike_with_marks(alignment: Alignment) -> bool:
        content, blocks = marked_agreement(a, b, alignment.matrix, alignment.mirrored, options.verify)
        if blocks < thresholds.duplicate_blocks or content < thresholds.chart_content:
            return False
        alignment.content, alignment.blocks = content, blocks  # the evidence the verdict rests on
        return True

    alignment = weighed(align_by_keypoints(a, b, options.verify, descriptors))
    # a copy of a chart is held to a chart's standard even where an edit (noise, JPEG) gave it tone
    of_a_chart = charts or a.chart or b.chart
    content_needed = thresholds.chart_content if of_a_chart else thresholds.duplicate_content
    verdict = ""
    if alignment is not None:
        enough_blocks = (
            thresholds.strong_inliers_blocks
            if alignment.inliers >= thresholds.strong_inliers
            else thresholds.duplicate_blocks
        )
        confirmed = alignment.blocks >= enough_blocks and alignment.content >= content_needed and significant(alignment)
        # too little texture for the dense check to speak (a blot's bands): a fit far rarer than chance that most
        # matches agree with speaks alone, unless what blocks there are disagree. Not a chart's: charts of one
        # style with their data marks masked leave no block, and their curves agree with 60% of matches at 1e-80
        alone = (
            not of_a_chart
            and alignment.blocks < enough_blocks
            and (alignment.content >= content_needed or not alignment.blocks)
            and alignment.inliers >= thresholds.keypoints_alone_share * alignment.matches
            and significant(alignment, thresholds.keypoints_alone_false_alarms)
        )
        # a scatter's or a curve's marks are masked from the dense check with the labels, which leaves its copy
        # no block to confirm it: compared marks and all, a copy's blocks agree, while a look-alike's data
        # points stand on one side only, which counts against it
        marked = (
            of_a_chart
            and not confirmed
            and alignment.blocks < enough_blocks
            and significant(alignment)
            and alike_with_marks(alignment)
        )
        if (
            alignment.inliers >= thresholds.duplicate_inliers
            and (confirmed or alone or marked)
            and alike_in_pattern(alignment)
            and alike_in_data(alignment)
        ):
            return DUPLICATE, alignment
        if alignment.inliers >= thresholds.similar_inliers and alignment.content >= thresholds.similar_content:
            verdict = SIMILAR
    if view is None:
        # candidates from other sources: the view under which the thumbnails agree best, if they do
        scores = b.signature @ a.signature[0]
        view = int(np.argmax(scores)) if scores.max() >= options.candidates.global_min_correlation else None
    if view is not None:
        # few keypoints (blots, gradients, sparse fluorescence): compare whole images
        whole = weighed(align_whole(a, b, view, options.verify))
        if (
            whole is not None
            and whole.content >= max(thresholds.whole_image_content, content_needed)
            and whole.blocks >= thresholds.whole_image_blocks
            and significant(whole)
            and alike_in_tone(whole)
            and alike_in_pattern(whole)
            and alike_in_data(whole)
        ):
            return DUPLICATE, whole
    return verdict, alignment


def _box(unit: ItemFeatures) -> tuple[int, int, int, int]:
    return unit.box or (0, 0, *unit.original_size)


def _one_finding_per_copy(pairs: list[Pair], whole: list[ItemFeatures], index_of: dict[str, int]) -> list[Pair]:
    """The pairs without those that show again, through a PDF page's rendering, a copy that a finding of an image
    embedded in that page already shows at least as strongly: a page and its image are one picture."""
    embedded: dict[int, list[int]] = {}
    for number, unit in enumerate(whole):
        if unit.inside in index_of:
            embedded.setdefault(index_of[unit.inside], []).append(number)
    if not embedded:
        return pairs
    order = {frozenset((p.first, p.second)): VERDICT_ORDER[p.verdict] for p in pairs}

    def shown_by_an_image(pair: Pair) -> bool:
        firsts = [pair.first, *embedded.get(pair.first, [])]
        seconds = [pair.second, *embedded.get(pair.second, [])]
        return any(
            order.get(frozenset((a, b)), VERDICT_ORDER[""]) <= VERDICT_ORDER[pair.verdict]
            for a in firsts
            for b in seconds
            if (a, b) != (pair.first, pair.second) and a != b
        )

    return [pair for pair in pairs if not pair.verdict or pair.within or not shown_by_an_image(pair)]


def _pair_rank(pair: Pair) -> tuple:
    return (VERDICT_ORDER[pair.verdict], -pair.local_matches, -(pair.clip_score or 0.0), pair.first, pair.second)
