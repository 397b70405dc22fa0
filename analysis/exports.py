"""The run for other programs and for the record: the CLI's CSV, JSON for the API, the report (HTML, PDF)."""

import base64
import csv
import warnings
from collections import Counter

from django.http import HttpResponse
from PIL import ImageFile

from analysis.engine.report import CSV_COLUMNS, csv_row
from analysis.engine.stages import DUPLICATE, FINDINGS, SIMILAR
from analysis.figure_maps import figure_maps
from analysis.fragments import files_and_items
from analysis.models import Pair, Review, Run
from analysis.pixels import evidence_jpeg, item_view, map_jpeg, pair_findings, pair_sides, pair_views, region_in_pixels

WEB_CSV_COLUMNS = ["review", "case"]  # the owner's newest verdict on the pair, and the run's case ID


def csv_response(run: Run, every: bool) -> HttpResponse:
    """The findings (duplicates and similar pairs), or every pair, in the command line's CSV format."""
    pairs = run.pairs.select_related("first", "second")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{run.file_name("all-pairs" if every else "findings", "csv")}"'
    )
    writer = csv.writer(response)
    writer.writerow([*CSV_COLUMNS, *WEB_CSV_COLUMNS])
    rows = list(pairs if every else pairs.filter(verdict__in=FINDINGS))
    reviews = Review.latest_for(rows, run.owner)
    for pair in rows:
        review = reviews.get(pair.pk)
        writer.writerow(csv_row(pair.row(), review.decision if review else "", run.case))
    return response


def report_pdf(html: str) -> bytes:
    """The HTML report printed by WeasyPrint; it fetches nothing, as every picture is embedded."""
    accept_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    with warnings.catch_warnings():
        # "HarfBuzz-Subset will be required by future versions": fonts are embedded whole until then
        warnings.simplefilter("ignore", DeprecationWarning)
        import weasyprint  # loads Pango: only when a PDF is asked for
    # importing it makes Pillow accept truncated images in the whole process: uploads must still be refused
    ImageFile.LOAD_TRUNCATED_IMAGES = accept_truncated

    embedded_only = weasyprint.URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    # fontTools, WeasyPrint's subsetter where HarfBuzz's is missing, stamps fonts with the time: other bytes each time
    whole_fonts = weasyprint.text.ffi.harfbuzz_subset is None
    return weasyprint.HTML(string=html, url_fetcher=embedded_only).write_pdf(full_fonts=whole_fonts)


def pair_json(pair: Pair, review) -> dict:
    return {
        "rank": pair.rank,
        "image1": pair.first_name,
        "image2": pair.second_name,
        "clip_score": pair.clip_score,
        "local_matches": pair.local_matches,
        "verdict": pair.verdict,
        "confidence": pair.confidence,
        "confidence_band": pair.confidence_band,
        "transform": pair.transform,
        "content_agreement": pair.content,
        "region1": pair.region1,
        "region2": pair.region2,
        "inside_one_item": pair.inside or None,
        "image2_kept_in": pair.second.library_origin or None,
        "review": review.decision if review else None,
    }


def run_json(run: Run) -> dict:
    return {
        "code": str(run.code),
        "name": run.name,
        "case": run.case,
        "status": run.status,
        "stage": run.stage,
        "stage_done": run.stage_done,
        "stage_total": run.stage_total,
        "clip_model": run.clip_model,
        "library": str(run.library.code) if run.library else None,
        "kept_in_library": run.keeps_pictures,
        "items": run.item_count,
        "skipped": run.skipped_count,
        "pairs_verified": run.pairs_verified,
        "duplicates": run.duplicate_count,
        "groups": run.group_count,
        "clip_notice": run.clip_notice,
        "error": run.error,
        "timings": run.timings,
        "created": run.created.isoformat(),
        "started": run.started.isoformat() if run.started else None,
        "finished": run.finished.isoformat() if run.finished else None,
    }


def _finding(pair: Pair) -> dict:
    views = pair_views(pair)
    sides = pair_sides(pair)
    return {
        "pair": pair,
        "evidence": _data_uri(evidence_jpeg(pair, views, height=420, max_lines=40)),
        "findings": pair_findings(pair, views),
        "sides": [
            (side, region_in_pixels(side, region))
            for side, region in zip(sides, (pair.region1, pair.region2), strict=True)
        ],
    }


def _data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()


def report_context(run: Run) -> dict:
    """Everything the downloadable report records: a summary for a committee, each finding with its evidence,
    the figure maps, and in an appendix the inputs, software and settings."""
    flagged = list(run.pairs.filter(verdict__in=FINDINGS).select_related("first", "second"))
    reviews = Review.latest_for(flagged, run.owner)
    for pair in flagged:
        pair.review = reviews.get(pair.pk)
    bands = Counter(pair.confidence_band for pair in flagged if pair.verdict == DUPLICATE)
    return {
        "run": run,
        "files_and_items": files_and_items(run),
        "duplicates_by_band": [(band, bands[band]) for band in ("high", "medium", "low") if bands[band]],
        "similar_count": sum(pair.verdict == SIMILAR for pair in flagged),
        "by_confidence": sorted(flagged, key=lambda pair: (-(pair.confidence or 0), pair.rank)),
        "maps": [(figure, _data_uri(map_jpeg(figure, item_view(figure.item)))) for figure in figure_maps(run)],
        "findings": [_finding(pair) for pair in flagged],
        "uploads": run.uploads.all(),
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
            flat[f"{prefix}{key}"] = str(value)  # 1e-40 as such, not as forty zeros
    return flat
