"""The run for other programs and for the record: the CLI's CSV, JSON for the API, the report (HTML, PDF)."""

import base64
import csv
import warnings

from django.http import HttpResponse
from PIL import ImageFile

from analysis.engine.report import CSV_COLUMNS, csv_row
from analysis.engine.stages import FINDINGS
from analysis.models import Pair, Review, Run
from analysis.pixels import evidence_jpeg, pair_findings, pair_views

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
        "kept_in_library": run.keep,
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
