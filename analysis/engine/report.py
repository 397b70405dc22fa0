"""The CSV of pairs shared by the command line and the web app."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from .stages import FINDINGS

if TYPE_CHECKING:  # the web process writes CSVs without loading the engine (torch)
    from .pipeline import Pair, Result

CSV_COLUMNS = [
    "pair",
    "image1",
    "image2",
    "kind",
    "panel1",
    "panel2",
    "clip_score",
    "local_matches",
    "verdict",
    "confidence",
    "transform",
    "content_agreement",
    "region1",
    "region2",
]
# a text cell that a spreadsheet would take for a formula (OWASP "CSV injection")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class PairRow:
    """What the CSV says of one pair; the command line and the web app both fill it."""

    number: int
    image1: str
    image2: str
    same_item: bool
    in_library: bool  # image2 is a picture kept in a library
    panel1: int | None
    panel2: int | None
    clip_score: float | None
    local_matches: int
    verdict: str
    confidence: float | None
    transform: str
    content: float | None
    region1: Sequence[float] | None
    region2: Sequence[float] | None

    @property
    def kind(self) -> str:
        return finding_kind(self.same_item, self.in_library, self.panel1, self.panel2)


def finding_kind(same_item: bool, in_library: bool, panel1: int | None, panel2: int | None) -> str:
    """Where the two copies are: in two items, against a library, in two panels of one figure, or in one picture."""
    if in_library:
        return "library"
    if not same_item:
        return "two items"
    return "two panels" if panel1 and panel2 and panel1 != panel2 else "within one picture"


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
        row = PairRow(
            number,
            result.place_name((pair.first, pair.first_panel)),
            result.place_name((pair.second, pair.second_panel)),
            pair.within,
            result.items[pair.second].library is not None,
            pair.first_panel,
            pair.second_panel,
            pair.clip_score,
            pair.local_matches,
            pair.verdict,
            pair.confidence,
            pair.transform,
            alignment.content if alignment else None,
            alignment.region1 if alignment else None,
            alignment.region2 if alignment else None,
        )
        writer.writerow(csv_row(row))
    return len(rows)


def csv_row(row: PairRow, *extra: str) -> list:
    """One line of the CSV, in CSV_COLUMNS order and then the extra columns; safe to open in a spreadsheet."""
    cells = [
        row.number,
        row.image1,
        row.image2,
        row.kind,
        row.panel1 or "",
        row.panel2 or "",
        "" if row.clip_score is None else f"{100 * row.clip_score:.1f}",
        row.local_matches,
        row.verdict,
        "" if row.confidence is None else f"{row.confidence:.3f}",
        row.transform,
        "" if row.content is None else f"{row.content:.2f}",
        _region(row.region1),
        _region(row.region2),
        *extra,
    ]
    return [spreadsheet_safe(cell) for cell in cells]


def spreadsheet_safe(cell):
    """A leading apostrophe makes a spreadsheet show the text as it is and run nothing; the name stays whole
    after it, so that the real name is recovered by dropping the first character."""
    return "'" + cell if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) else cell


def _region(box: Sequence[float] | None) -> str:
    return "" if box is None else " ".join(f"{value:.3f}" for value in box)
