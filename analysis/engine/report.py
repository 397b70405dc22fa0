"""The CSV of pairs shared by the command line and the web app."""

from __future__ import annotations

import csv
from typing import TextIO

from .pipeline import DUPLICATE, SIMILAR, Pair, Result

CSV_COLUMNS = [
    "pair",
    "image1",
    "image2",
    "clip_score",
    "local_matches",
    "verdict",
    "transform",
    "content_agreement",
    "region1",
    "region2",
]


def csv_pairs(result: Result, top: int) -> list[Pair]:
    """Every duplicate and similar pair, then the best `top` of the others."""
    flagged = [p for p in result.pairs if p.verdict in (DUPLICATE, SIMILAR)]
    others = [p for p in result.pairs if p.verdict not in (DUPLICATE, SIMILAR)]
    return flagged + others[:top]


def write_csv(result: Result, out: TextIO, top: int = 50) -> int:
    """Writes the CSV; returns the number of rows."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    rows = csv_pairs(result, top)
    for number, pair in enumerate(rows, start=1):
        alignment = pair.alignment
        writer.writerow(
            [
                number,
                result.items[pair.first].name,
                result.items[pair.second].name,
                "" if pair.clip_score is None else f"{100 * pair.clip_score:.1f}",
                pair.local_matches,
                pair.verdict,
                pair.transform,
                f"{alignment.content:.2f}" if alignment else "",
                _region(alignment.region1) if alignment else "",
                _region(alignment.region2) if alignment else "",
            ]
        )
    return len(rows)


def _region(box: tuple[float, float, float, float]) -> str:
    return " ".join(f"{value:.3f}" for value in box)
