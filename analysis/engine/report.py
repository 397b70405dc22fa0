"""The CSV of pairs shared by the command line and the web app."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from .stages import FINDINGS

if TYPE_CHECKING:  # the web process writes CSVs without loading the engine (torch)
    from .pipeline import Pair, Result

CSV_COLUMNS = [
    "pair",
    "image1",
    "image2",
    "clip_score",
    "local_matches",
    "verdict",
    "confidence",
    "transform",
    "content_agreement",
    "region1",
    "region2",
]


def csv_pairs(result: Result, top: int) -> list[Pair]:
    """Every duplicate and similar pair, then the best `top` of the others."""
    flagged = [p for p in result.pairs if p.verdict in FINDINGS]
    others = [p for p in result.pairs if p.verdict not in FINDINGS]
    return flagged + others[:top]


def write_csv(result: Result, out: TextIO, top: int = 50) -> int:
    """Writes the CSV; returns the number of rows."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    rows = csv_pairs(result, top)
    for number, pair in enumerate(rows, start=1):
        alignment = pair.alignment
        writer.writerow(
            csv_row(
                number,
                result.place_name((pair.first, pair.first_panel)),
                result.place_name((pair.second, pair.second_panel)),
                pair.clip_score,
                pair.local_matches,
                pair.verdict,
                pair.confidence,
                pair.transform,
                alignment.content if alignment else None,
                alignment.region1 if alignment else None,
                alignment.region2 if alignment else None,
            )
        )
    return len(rows)


def csv_row(
    number: int,
    image1: str,
    image2: str,
    clip_score: float | None,
    local_matches: int,
    verdict: str,
    confidence: float | None,
    transform: str,
    content: float | None,
    region1: Sequence[float] | None,
    region2: Sequence[float] | None,
) -> list:
    """One line of the CSV, in CSV_COLUMNS order; the web app writes its rows with it too."""
    return [
        number,
        image1,
        image2,
        "" if clip_score is None else f"{100 * clip_score:.1f}",
        local_matches,
        verdict,
        "" if confidence is None else f"{confidence:.3f}",
        transform,
        "" if content is None else f"{content:.2f}",
        _region(region1),
        _region(region2),
    ]


def _region(box: Sequence[float] | None) -> str:
    return "" if box is None else " ".join(f"{value:.3f}" for value in box)
