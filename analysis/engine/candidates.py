"""Candidate pairs: a bounded number per item, so verification grows linearly with N.

Three sources, each a dict {(i, j): score} with i < j:
- CLIP: each item's nearest neighbours by cosine similarity (blocked matrix products).
- Local features: keypoint votes from an approximate nearest-neighbour index
  over all items' descriptors, which finds a panel pasted into a larger
  figure or a crop even when the images as wholes look different.
- Global signature: whole-image copies under the 8 rotations and flips,
  for images with too few keypoints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from .features import ItemFeatures, inverse_view, mirror_descriptors, root_sift

FOREST_SEED = 20240607


@dataclass(frozen=True)
class CandidateOptions:
    clip_neighbours: int = 5
    clip_min_score: float = 0.75
    local_query_keypoints: int = 300
    local_index_keypoints: int = 800
    local_neighbours: int = 10
    local_vote_distance: float = 0.3  # RootSIFT distance; copies match at 0.05-0.2, unrelated cells at 0.2-0.5
    local_partners: int = 5
    local_max_partners: int = 40
    local_partner_share: float = 0.15
    local_min_votes: int = 3
    global_partners: int = 3
    global_min_correlation: float = 0.8
    block_rows: int = 2048
    unit_pairs_per_item_pair: int = 6  # the items themselves, then their panels


def top_neighbours(
    vectors: torch.Tensor, count: int, min_score: float, block_rows: int, others: torch.Tensor | None = None
) -> tuple[dict[tuple[int, int], float], dict[tuple[int, int], int]]:
    """Each row's `count` best partners among rows of `others` (default: vectors themselves).

    `others` may hold several views per item, stacked view-major: row
    v * n + j is view v of item j. Returns scores and the best view per pair.
    """
    n = len(vectors)
    others = vectors if others is None else others
    views = len(others) // max(n, 1)
    scores: dict[tuple[int, int], float] = {}
    best_view: dict[tuple[int, int], int] = {}
    count = min(count, n - 1)
    if count <= 0:
        return scores, best_view
    for start in range(0, n, block_rows):
        block = vectors[start : start + block_rows] @ others.T
        block = block.view(len(block), views, n)
        block, view = block.max(dim=1)
        rows = torch.arange(start, start + len(block), device=block.device)
        block[torch.arange(len(block)), rows] = -2.0
        values, columns = torch.topk(block, count, dim=1)
        view_of = torch.gather(view, 1, columns)
        for row, cols, vals, vs in zip(rows.tolist(), columns.tolist(), values.tolist(), view_of.tolist(), strict=True):
            for col, value, v in zip(cols, vals, vs, strict=True):
                if value < min_score:
                    break
                pair = (min(row, col), max(row, col))
                if value > scores.get(pair, -2.0):
                    scores[pair] = value
                    best_view[pair] = v if row == pair[0] else inverse_view(v)
    return scores, best_view


def clip_pairs(embeddings: np.ndarray, options: CandidateOptions, device: torch.device) -> dict[tuple[int, int], float]:
    vectors = torch.from_numpy(embeddings).to(device)
    scores, _ = top_neighbours(vectors, options.clip_neighbours, options.clip_min_score, options.block_rows)
    return scores


def global_pairs(
    items: Sequence[ItemFeatures], options: CandidateOptions, device: torch.device
) -> tuple[dict[tuple[int, int], float], dict[tuple[int, int], int]]:
    """Pairs whose thumbnails correlate under some rotation or flip; also returns that view.

    The view v of a pair (i, j) is the dihedral view of j that matches i.
    """
    if not items:
        return {}, {}
    upright = torch.from_numpy(np.stack([item.signature[0] for item in items])).to(device)
    views = torch.from_numpy(np.concatenate([np.stack([item.signature[v] for item in items]) for v in range(8)]))
    return top_neighbours(
        upright, options.global_partners, options.global_min_correlation, options.block_rows, views.to(device)
    )


def local_pairs(
    items: Sequence[ItemFeatures],
    options: CandidateOptions,
    progress: Callable[[int, int], None] | None = None,
    threads: int = 1,
) -> dict[tuple[int, int], int]:
    """Pairs that share many keypoints, by votes from nearest neighbours in a FLANN k-d forest.

    The searches run in `threads` threads (OpenCV lets go of the GIL while it searches).
    """
    owners, database = [], []
    for index, item in enumerate(items):
        descriptors = item.descriptors[: options.local_index_keypoints]
        owners.append(np.full(len(descriptors), index, np.int32))
        database.append(root_sift(descriptors))
    if not database or sum(len(d) for d in database) <= options.local_neighbours:
        return {}
    owner = np.concatenate(owners)
    # the forest's trees are drawn from OpenCV's random generator, whose state depends on what ran before in
    # this thread: a fixed seed gives the same candidates, and so the same verdicts, on every run
    cv2.setRNGSeed(FOREST_SEED)
    flann = cv2.flann_Index(np.concatenate(database), {"algorithm": 1, "trees": 4})
    total = len(items)

    def search(chunk: range) -> np.ndarray:
        """The keys (low * total + high) of the pairs that the chunk's items' keypoints vote for, one vote
        per query keypoint and pair (repeated across keypoints)."""
        queries, query_owner = [], []
        for index in chunk:
            descriptors = items[index].descriptors[: options.local_query_keypoints]
            for view in (descriptors, mirror_descriptors(descriptors)):
                queries.append(root_sift(view))
                query_owner.append(np.full(len(view), index, np.int64))
        query = np.concatenate(queries)
        if not len(query):
            return np.zeros(0, np.int64)
        neighbours, distances = flann.knnSearch(query, options.local_neighbours, params={"checks": 32})
        source = np.repeat(np.concatenate(query_owner), neighbours.shape[1]).reshape(neighbours.shape)
        target = owner[neighbours].astype(np.int64)
        # FLANN returns squared distances
        voting = (distances < options.local_vote_distance**2) & (target != source)
        query_ids = np.broadcast_to(np.arange(len(query))[:, None], neighbours.shape)[voting]
        low = np.minimum(source[voting], target[voting])
        high = np.maximum(source[voting], target[voting])
        keys = np.unique(query_ids * total * total + low * total + high)
        return keys % (total * total)

    step = max(1, total // 50)
    chunks = [range(start, min(start + step, total)) for start in range(0, total, step)]
    votes: list[np.ndarray] = []
    with ThreadPoolExecutor(max(1, threads)) as pool:
        for chunk, found in zip(chunks, pool.map(search, chunks), strict=True):
            votes.append(found)
            if progress:
                progress(chunk.stop, total)
    keys, counts = np.unique(np.concatenate(votes), return_counts=True)
    strong = counts >= options.local_min_votes
    keys, counts = keys[strong], counts[strong]
    return _best_partners(keys // total, keys % total, counts, total, options)


def _best_partners(
    first: np.ndarray, second: np.ndarray, votes: np.ndarray, total: int, options: CandidateOptions
) -> dict[tuple[int, int], int]:
    """Each item's best partners: the top few, and any others with a good share of the best's votes.

    A fixed top-k would cut a family of many copies short; a share of the
    best keeps the count small for the usual item with one or two copies.
    """
    best = np.zeros(total, np.int64)
    np.maximum.at(best, first, votes)
    np.maximum.at(best, second, votes)
    rank = np.zeros(total, np.int64)
    chosen: dict[tuple[int, int], int] = {}
    for k in np.argsort(-votes, kind="stable"):
        i, j, count = int(first[k]), int(second[k]), int(votes[k])
        wanted = [
            rank[end] < options.local_partners
            or (rank[end] < options.local_max_partners and count >= options.local_partner_share * best[end])
            for end in (i, j)
        ]
        if any(wanted):
            chosen[(i, j)] = count
            rank[i] += 1
            rank[j] += 1
    return chosen
