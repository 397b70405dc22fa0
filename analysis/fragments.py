"""What the run page shows, shared by its first render, its htmx requests and the websocket consumer."""

from collections import Counter
from dataclasses import dataclass

from django.db.models import QuerySet
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string

from analysis.engine.stages import DUPLICATE, FINDINGS, SIMILAR, STAGES
from analysis.figure_maps import figure_maps
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
        if (key == "library" and not run.library_id) or (key == "keeping" and not run.keeps_pictures):
            continue
        if key == "clip" and state == "done" and run.clip_notice:
            state = "skipped"
        done, total = (run.stage_done, run.stage_total) if state == "current" else (int(state == "done"), 1)
        rows.append(StageRow(key, label, state, done, total, run.timings.get(key)))
    return rows


REVIEW_FILTERS = {"": "All findings", "unreviewed": "Not reviewed yet", **dict(Review.Decision.choices)}


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
        context["figure_maps"] = figure_maps(run)
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
