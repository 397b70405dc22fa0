"""Scoring a run against a generated data set's truth, for either generator.

Two items are true duplicates when they hold pixels of one original (their families meet); pairs of one
look-alike class from different families are the hard negatives.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from analysis.bench.dataset import Dataset
from analysis.engine import confidence
from analysis.engine.names import embedding_page
from analysis.engine.pipeline import DUPLICATE, Pair, Result

NOT_A_COPY = {"original", "filler", "pdf", "clone", "reused_panel", "beside_chart"}


@dataclass
class Score:
    items: int
    truth: set[tuple[int, int]]
    found: set[tuple[int, int]]
    hard: dict[str, set[tuple[int, int]]]  # look-alike class -> its pairs of different families
    per_transform: dict[str, list[bool]]
    false_pairs: list[Pair] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return len(self.truth & self.found) / len(self.found) if self.found else 1.0

    @property
    def recall(self) -> float:
        return len(self.truth & self.found) / len(self.truth) if self.truth else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def transform_recall(self, *names: str) -> tuple[int, int]:
        hits = [hit for name in names for hit in self.per_transform.get(name, [])]
        return sum(hits), len(hits)

    @property
    def panel_recall(self) -> tuple[int, int]:
        return self.transform_recall(*(name for name in self.per_transform if name.startswith("panel")))

    @property
    def false_high(self) -> int:
        return sum(confidence.band(pair.confidence) == "high" for pair in self.false_pairs)


def score(result: Result, dataset: Dataset) -> Score:
    names = [item.name for item in result.items]
    families = [dataset.item_families(name) for name in names]
    truth = {
        (i, j)
        for i, j in itertools.combinations(range(len(names)), 2)
        if families[i] & families[j] and not same_page(names[i], names[j])
    }
    by_pair = {(p.first, p.second): p for p in result.pairs if p.verdict == DUPLICATE and not p.within}
    found = one_picture(set(by_pair), names)
    look = [dataset.entry(name).look_alike for name in names]
    hard: dict[str, set[tuple[int, int]]] = defaultdict(set)
    by_class: dict[str, list[int]] = defaultdict(list)
    for index, label in enumerate(look):
        if label:
            by_class[label].append(index)
    for label, members in by_class.items():
        hard[label] = {(i, j) for i, j in itertools.combinations(members, 2) if not families[i] & families[j]}
    false_pairs = [by_pair[pair] for pair in sorted(set(by_pair) - truth)]
    return Score(len(names), truth, found, dict(hard), _per_transform(dataset, names, found), false_pairs)


def _per_transform(dataset: Dataset, names: list[str], found: set[tuple[int, int]]) -> dict[str, list[bool]]:
    """For each edited copy, whether its pair with its original (or, for two copies of one original edited
    differently, with the other copy) was found; PDF pages' items with the original they reuse."""
    index = {name: i for i, name in enumerate(names)}
    originals = {next(iter(e.families)): e.name for e in dataset.entries if e.transform == "original"}
    twice: dict[str, list[str]] = defaultdict(list)
    result: dict[str, list[bool]] = defaultdict(list)
    for entry in dataset.entries:
        if entry.transform in NOT_A_COPY or len(entry.families) != 1 or entry.name not in index:
            continue
        family = next(iter(entry.families))
        if entry.transform == "twice":
            twice[family].append(entry.name)
            continue
        if family in originals and originals[family] in index:
            pair = tuple(sorted((index[originals[family]], index[entry.name])))
            result[entry.transform].append(pair in found)
    for copies in twice.values():
        if len(copies) == 2 and all(name in index for name in copies):
            result["twice"].append(tuple(sorted(index[name] for name in copies)) in found)
    for entry in dataset.entries:
        if entry.transform != "pdf":
            continue
        for i, name in enumerate(names):
            if not name.startswith(entry.name + "#"):
                continue
            for j, other in enumerate(names):
                if (
                    dataset.entry(other).transform == "original"
                    and dataset.item_families(name) & dataset.entry(other).families
                ):
                    result["pdf"].append(tuple(sorted((i, j))) in found)
    return dict(result)


def one_picture(found: set[tuple[int, int]], names: list[str]) -> set[tuple[int, int]]:
    """The pairs found, where a PDF page and an image embedded in it are one picture: the engine lists a copy of
    it once (through the image), and the copy is found with the page as well."""
    index = {name: number for number, name in enumerate(names)}
    same: dict[int, set[int]] = defaultdict(set)
    for number, name in enumerate(names):
        page = index.get(embedding_page(name))
        if page is not None:
            same[number].add(page)
            same[page].add(number)
    return {
        tuple(sorted((a, b)))
        for first, second in found
        for a in {first} | same[first]
        for b in {second} | same[second]
        if a != b and not same_page(names[a], names[b])
    }


def same_page(first: str, second: str) -> bool:
    """A PDF page and an image embedded in it: the same pixels by construction, never a finding."""
    return embedding_page(first) == second or embedding_page(second) == first


def evidence_rows(result: Result, truth: set[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """The confidence model's inputs for each verified pair of two pictures, and whether it is a true one."""
    pairs = [pair for pair in result.pairs if not pair.within]  # fitted on pairs of pictures
    evidence = np.array([pair.evidence for pair in pairs])
    return evidence, np.array([(pair.first, pair.second) in truth for pair in pairs], dtype=float)


def report_confidence(result: Result, truth: set[tuple[int, int]]) -> None:
    print_calibration(*evidence_rows(result, truth))


def print_calibration(rows: np.ndarray, true: np.ndarray, coefficients: list[float] = confidence.COEFFICIENTS) -> None:
    predicted = np.array([confidence.confidence(row, coefficients) for row in rows])
    print("confidence calibration (predicted -> share truly duplicated, over verified pairs):")
    for low, high, count, mean, share in confidence.reliability(predicted, true):
        print(f"  {low:.2f}-{high:.2f}  {count:6d} pairs  predicted {mean:.3f}  true {share:.3f}")
