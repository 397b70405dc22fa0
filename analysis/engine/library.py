"""A library: pictures kept from earlier runs, which later runs are checked against without reading them again.

Each kept item's features (its own and its panels', and its CLIP embedding) lie in a file of their own. Three
FAISS indexes find the few entries a new picture may share pixels with: RootSIFT descriptors (votes, as in
candidates.local_pairs), thumbnail signatures (whole-picture copies with few keypoints) and CLIP embeddings.

Each index is an inverted file (IVF): one list per `vectors_per_list` vectors, of which a search visits a
fixed number (`probes`), so a search reads about the same number of vectors however large the library has
grown; a graph (HNSW) over the lists' centres finds the nearest lists once there are many. Searches read
the index files memory-mapped: only the lists they visit. The lists are trained again (k-means) when the
library has doubled since they were last trained. New vectors go to a small "recent" index with the same
lists, merged into the main one once it holds a quarter as many: keeping a run's items costs about the same
in a large library as in a small one.

A removed entry's vectors stay in the indexes, passed over by searches, until the lists are next trained.
Writers take an exclusive lock on the folder, readers a shared one; every file is replaced whole (written
aside, then renamed), so a reader never sees half an update.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import faiss
import numpy as np

from .features import ItemFeatures, inverse_view, mirror_descriptors, root_sift

if TYPE_CHECKING:
    from .candidates import CandidateOptions

KINDS = ("descriptors", "signatures", "clip")
UNITS_PER_ENTRY = 1024  # an entry's units (the picture, then its panels) in one vector id: entry * this + unit
PARTS = ("main", "recent")
READ_MAPPED = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY
ADD_ROWS = 1 << 20  # vectors converted and added at a time when lists are trained again: bounded memory


@dataclass(frozen=True)
class LibraryOptions:
    indexed_keypoints: int = 128  # of each kept unit, in candidates' spread order
    query_keypoints: int = 300  # of each new unit, and as many of its mirror image
    neighbours: int = 10
    # stricter than candidates.local_vote_distance: a library's many entries would outvote a crop by chance there
    vote_distance: float = 0.2
    vectors_per_list: int = 1000
    training_points_per_list: int = 32  # k-means on a sample: enough to place lists for a search visiting several
    probes: int = 4  # lists visited by one search
    descriptor_codes: str = "SQ8"  # 8 bits per dimension: a quarter of float32, distances nearly exact
    recent_share: float = 0.25  # the recent index is merged into the main one when it holds this share of it
    partners: int = 5  # entries verified per new item, at most
    min_votes: int = 4


@dataclass
class Entry:
    """A kept item: its units (the picture, then its panels), and its CLIP embedding by model."""

    key: str
    units: list[ItemFeatures]
    embedding: np.ndarray | None = None
    model: str = ""


@dataclass(frozen=True, order=True)
class Match:
    """A new unit that may share pixels with a kept one, and the dihedral view of the kept one that fits."""

    unit: int  # of the units searched
    key: str  # the entry
    entry_unit: int  # 0: the entry's picture, else one of its panels with features
    view: int | None


class Library:
    def __init__(self, folder: str | os.PathLike, options: LibraryOptions | None = None):
        self.folder = Path(folder)
        self.options = options or LibraryOptions()

    # -- writing

    def add(self, entries: Sequence[Entry]) -> None:
        """Keeps the entries; a key already kept is replaced."""
        if not entries:
            return
        with self._locked(fcntl.LOCK_EX):
            state = self._state()
            replaced = [entry.key for entry in entries if entry.key in state["numbers"]]
            if replaced:
                self._forget(state, replaced)
            batch: dict[str, list[np.ndarray]] = {f"{kind}_{part}": [] for kind in KINDS for part in ("ids", "vectors")}
            for entry in entries:
                number = len(state["keys"])
                state["keys"].append(entry.key)
                state["numbers"][entry.key] = number
                _save_entry(self.entry_path(entry.key), entry)
                for kind, ids, vectors in _vectors(number, entry, self.options, state):
                    batch[f"{kind}_ids"].append(ids)
                    batch[f"{kind}_vectors"].append(vectors)
            arrays = {name: _joined(parts, name) for name, parts in batch.items()}
            batch_path = self.folder / "batches" / f"{state['batches']:06d}.npz"
            _write(batch_path, lambda f: np.savez(f, **arrays))
            state["batches"] += 1
            for kind in KINDS:
                self._add_vectors(state, kind, arrays[f"{kind}_ids"], arrays[f"{kind}_vectors"])
            self._save_state(state)

    def remove(self, keys: Sequence[str]) -> None:
        with self._locked(fcntl.LOCK_EX):
            state = self._state()
            known = [key for key in keys if key in state["numbers"]]
            if known:
                self._forget(state, known)
                self._save_state(state)

    def _forget(self, state: dict, keys: Sequence[str]) -> None:
        # searches pass over a removed entry's vectors, which go when the lists are next trained: removing one
        # picture does not rewrite a large index
        state["removed"].extend(state["numbers"].pop(key) for key in keys)
        for key in keys:
            self.entry_path(key).unlink(missing_ok=True)

    def _add_vectors(self, state: dict, kind: str, ids: np.ndarray, vectors: np.ndarray) -> None:
        if not len(ids):
            return
        state["vectors"][kind] = state["vectors"].get(kind, 0) + len(ids)
        if not self._path(kind, "main").exists() or state["vectors"][kind] > 2 * state["trained"].get(kind, 0):
            self._train(state, kind)  # on everything kept, these vectors included
            return
        recent = self._read(kind, "recent")
        if recent is None:
            recent = self._read(kind, "empty")  # the trained lists, no vectors yet
        recent.add_with_ids(_indexed(kind, vectors), ids)
        if recent.ntotal <= self.options.recent_share * state["main"][kind]:
            self._write_index(kind, "recent", recent)
            return
        main = self._read(kind, "main")
        main.merge_from(recent, 0)
        self._write_index(kind, "main", main)
        self._path(kind, "recent").unlink(missing_ok=True)
        state["main"][kind] = main.ntotal

    def _train(self, state: dict, kind: str) -> None:
        """New lists from a sample of every kept vector of the kind, and a main index holding them all."""
        total = sum(len(ids) for ids, _ in self._batches(kind, state, vectors=False))
        lists = max(1, min(total // self.options.vectors_per_list, total // 39))
        chosen = np.random.default_rng(0).permutation(total)[: self.options.training_points_per_list * lists]
        chosen.sort()
        sample, seen = [], 0
        for ids, vectors in self._batches(kind, state):
            inside = chosen[(chosen >= seen) & (chosen < seen + len(ids))] - seen
            sample.append(vectors[inside])
            seen += len(ids)
        sample = np.concatenate(sample)
        index = _trained_index(kind, lists, _indexed(kind, sample), self.options)
        self._write_index(kind, "empty", index)
        for ids, vectors in self._batches(kind, state):
            for start in range(0, len(ids), ADD_ROWS):
                rows = slice(start, start + ADD_ROWS)
                index.add_with_ids(_indexed(kind, vectors[rows]), ids[rows])
        self._write_index(kind, "main", index)
        self._path(kind, "recent").unlink(missing_ok=True)
        state["trained"][kind] = state["vectors"][kind] = state["main"][kind] = total

    def _batches(self, kind: str, state: dict, vectors: bool = True) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """Each batch file's ids and vectors of the kind, those of removed entries left out."""
        removed = np.asarray(state["removed"], np.int64)
        for path in sorted((self.folder / "batches").glob("*.npz")):
            with np.load(path) as batch:
                ids = batch[f"{kind}_ids"]
                if not len(ids):
                    continue
                kept = ~np.isin(ids // UNITS_PER_ENTRY, removed)
                yield ids[kept], batch[f"{kind}_vectors"][kept] if vectors else None

    # -- reading

    @property
    def size(self) -> int:
        """Entries kept."""
        with self._locked(fcntl.LOCK_SH):
            return len(self._state()["numbers"])

    def entry_keys(self) -> list[str]:
        with self._locked(fcntl.LOCK_SH):
            return sorted(self._state()["numbers"])

    def vectors(self, kind: str) -> int:
        """Vectors in one of the indexes (KINDS), removed entries' included until its lists are trained again."""
        with self._locked(fcntl.LOCK_SH):
            return self._state()["vectors"].get(kind, 0)

    def trained(self, kind: str) -> int:
        """The vectors its lists were last trained on."""
        with self._locked(fcntl.LOCK_SH):
            return self._state()["trained"].get(kind, 0)

    def lists(self, kind: str) -> int:
        with self._locked(fcntl.LOCK_SH):
            index = self._read(kind, "main", mapped=True)
        return 0 if index is None else faiss.extract_index_ivf(index).nlist

    def load(self, key: str) -> Entry:
        return _load_entry(key, self.entry_path(key))

    def search(
        self,
        units: Sequence[ItemFeatures],
        owner: Sequence[int],
        embeddings: np.ndarray | None,
        model: str,
        candidates: CandidateOptions,
    ) -> list[Match]:
        """Kept units that new units may share pixels with: each new item's few best entries.

        `owner` gives each unit's item; `embeddings` are the items' CLIP embeddings, made by `model`.
        """
        with self._locked(fcntl.LOCK_SH):
            state = self._state()
            searches = {kind: self._searcher(kind) for kind in KINDS}
        if not state["numbers"]:
            return []
        keys, removed = state["keys"], set(state["removed"])
        found: dict[tuple[int, int], tuple[float, int | None]] = {}  # (unit, kept unit id) -> score, view
        for unit, kept, votes in self._votes(searches["descriptors"], units, candidates):
            found[(unit, kept)] = (float(votes), None)
        for unit, kept, view in self._copies(searches["signatures"], units, candidates):
            found[(unit, kept)] = (found.get((unit, kept), (0.0, None))[0] + self.options.min_votes, view)
        if embeddings is not None and state.get("model") == model:
            picture = {}  # each item's first unit, the picture itself
            for unit in range(len(owner) - 1, -1, -1):
                picture[owner[unit]] = unit
            for item, kept in self._neighbours(searches["clip"], embeddings, candidates):
                unit = picture[item]
                score, view = found.get((unit, kept), (0.0, None))
                found[(unit, kept)] = (score + self.options.min_votes, view)
        # each new item's best few entries; within them, every unit pair that was found
        best: dict[int, dict[int, float]] = {}
        for (unit, kept), (score, _) in found.items():
            entry = kept // UNITS_PER_ENTRY
            if entry not in removed:
                entries = best.setdefault(owner[unit], {})
                entries[entry] = max(entries.get(entry, 0.0), score)
        chosen = {
            (item, entry)
            for item, entries in best.items()
            for entry in sorted(entries, key=entries.get, reverse=True)[: self.options.partners]
        }
        return sorted(
            Match(unit, keys[kept // UNITS_PER_ENTRY], kept % UNITS_PER_ENTRY, view)
            for (unit, kept), (_, view) in found.items()
            if (owner[unit], kept // UNITS_PER_ENTRY) in chosen
        )

    def _searcher(self, kind: str) -> Search | None:
        """A search of the kind's main and recent indexes together, or None when it has none yet."""
        indexes = [index for part in PARTS if (index := self._read(kind, part, mapped=True)) is not None]
        if not indexes:
            return None
        params = faiss.SearchParametersIVF(nprobe=self.options.probes)
        nearest_first = 1 if kind == "descriptors" else -1  # L2 distances, or inner products

        def search(queries: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
            found = [index.search(queries, count, params=params) for index in indexes]
            scores = np.concatenate([scores for scores, _ in found], axis=1)
            ids = np.concatenate([ids for _, ids in found], axis=1)
            order = np.argsort(nearest_first * scores, axis=1, kind="stable")[:, :count]
            return np.take_along_axis(scores, order, 1), np.take_along_axis(ids, order, 1)

        return search

    def _votes(
        self, search: Search | None, units: Sequence[ItemFeatures], candidates: CandidateOptions
    ) -> Iterator[tuple[int, int, int]]:
        """(unit, kept unit id, votes): kept units that many of a unit's keypoints (or its mirror image's) match."""
        if search is None:
            return
        queries, query_unit = [], []
        for number, unit in enumerate(units):
            descriptors = unit.descriptors[: self.options.query_keypoints]
            for view in (descriptors, mirror_descriptors(descriptors)):
                queries.append(root_sift(view))
                query_unit.append(np.full(len(view), number, np.int64))
        if not sum(len(q) for q in queries):
            return
        query = np.concatenate(queries)
        distances, neighbours = search(query, self.options.neighbours)
        # FAISS gives squared L2 distances
        voting = (neighbours >= 0) & (distances < self.options.vote_distance**2)
        query_ids = np.broadcast_to(np.arange(len(query))[:, None], neighbours.shape)[voting]
        # one vote per query keypoint and kept unit
        pairs = np.unique(np.stack([query_ids, neighbours[voting]], axis=1), axis=0)
        sources = np.concatenate(query_unit)[pairs[:, 0]]
        keys, counts = np.unique(np.stack([sources, pairs[:, 1]], axis=1), axis=0, return_counts=True)
        for (unit, kept), count in zip(keys.tolist(), counts.tolist(), strict=True):
            if count >= self.options.min_votes:
                yield unit, kept, count

    def _copies(
        self, search: Search | None, units: Sequence[ItemFeatures], candidates: CandidateOptions
    ) -> Iterator[tuple[int, int, int]]:
        """(unit, kept unit id, view of the kept unit that fits): thumbnails that correlate under some view."""
        if search is None or not units:
            return
        views = np.concatenate([np.stack([unit.signature[v] for unit in units]) for v in range(8)])
        scores, neighbours = search(views, candidates.global_partners)
        for row, (values, kept) in enumerate(zip(scores, neighbours, strict=True)):
            view, unit = divmod(row, len(units))
            for value, id_ in zip(values.tolist(), kept.tolist(), strict=True):
                if id_ >= 0 and value >= candidates.global_min_correlation:
                    # view v of the new unit fits the kept one upright: the kept one's inverse view fits the new
                    yield unit, id_, inverse_view(view)

    def _neighbours(
        self, search: Search | None, embeddings: np.ndarray, candidates: CandidateOptions
    ) -> Iterator[tuple[int, int]]:
        if search is None:
            return
        scores, neighbours = search(np.ascontiguousarray(embeddings, np.float32), candidates.clip_neighbours)
        for item, (values, kept) in enumerate(zip(scores, neighbours, strict=True)):
            for value, id_ in zip(values.tolist(), kept.tolist(), strict=True):
                if id_ >= 0 and value >= candidates.clip_min_score:
                    yield item, id_

    # -- files

    def entry_path(self, key: str) -> Path:
        """The file of an entry's features."""
        if not key.isalnum():
            raise ValueError(f"a library key is letters and digits: {key!r}")
        return self.folder / "entries" / key[:2] / f"{key}.npz"

    def _state(self) -> dict:
        path = self.folder / "state.json"
        if not path.exists():
            return {"keys": [], "numbers": {}, "removed": [], "batches": 0, "vectors": {}, "trained": {}, "main": {}}
        return json.loads(path.read_text())

    def _save_state(self, state: dict) -> None:
        _write(self.folder / "state.json", lambda f: f.write(json.dumps(state).encode()))

    def _path(self, kind: str, part: str) -> Path:
        return self.folder / f"{kind}-{part}.faiss"

    def _read(self, kind: str, part: str, mapped: bool = False) -> faiss.Index | None:
        """An index file (part: main, recent, or the lists alone: empty), read whole or memory-mapped."""
        path = self._path(kind, part)
        if not path.exists():
            return None
        return faiss.read_index(str(path), READ_MAPPED) if mapped else faiss.read_index(str(path))

    def _write_index(self, kind: str, part: str, index: faiss.Index) -> None:
        data = faiss.serialize_index(index)
        _write(self._path(kind, part), lambda f: f.write(memoryview(data)))

    @contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "lock", "a") as lock:
            fcntl.flock(lock, mode)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


Search = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]  # queries, count -> scores and ids, best first


def _vectors(
    number: int, entry: Entry, options: LibraryOptions, state: dict
) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(kind, ids, vectors) of one entry, as the batch files keep them (descriptors as uint8 SIFT)."""
    for position, unit in enumerate(entry.units):
        unit_id = number * UNITS_PER_ENTRY + position
        descriptors = unit.descriptors[: options.indexed_keypoints]
        yield "descriptors", np.full(len(descriptors), unit_id, np.int64), descriptors
        yield "signatures", np.array([unit_id], np.int64), unit.signature[:1]
    if entry.embedding is not None:
        # one model's embeddings per library: the first kept decides, others are kept but not indexed
        state.setdefault("model", entry.model)
        if state["model"] == entry.model:
            yield "clip", np.array([number * UNITS_PER_ENTRY], np.int64), entry.embedding[None].astype(np.float32)


def _joined(parts: list[np.ndarray], name: str) -> np.ndarray:
    if parts:
        return np.concatenate(parts)
    return np.zeros(0, np.int64) if name.endswith("_ids") else np.zeros((0, 1), np.float32)


def _indexed(kind: str, vectors: np.ndarray) -> np.ndarray:
    return root_sift(vectors) if kind == "descriptors" else np.ascontiguousarray(vectors, np.float32)


def _trained_index(kind: str, lists: int, sample: np.ndarray, options: LibraryOptions) -> faiss.Index:
    # many lists: a graph over them (HNSW) finds a vector's nearest lists without comparing it with every one
    quantizer = "_HNSW32" if lists >= 1024 else ""
    codes, metric = (
        (options.descriptor_codes, faiss.METRIC_L2) if kind == "descriptors" else ("Flat", faiss.METRIC_INNER_PRODUCT)
    )
    index = faiss.index_factory(sample.shape[1], f"IVF{lists}{quantizer},{codes}", metric)
    index.cp.min_points_per_centroid = 1  # a small library has few points for its one list
    index.cp.niter = 10
    index.train(sample)
    return index


UNIT_ARRAYS = ("keypoints", "descriptors", "check_gray", "check_content", "signature")
TONE = "check_tone"  # entries kept before it was have none
UNIT_FIELDS = ("name", "original_size", "sift_size", "chart", "parent", "box", "kind", "page", "panels")


def _save_entry(path: Path, entry: Entry) -> None:
    arrays = {f"{n}_{name}": getattr(unit, name) for n, unit in enumerate(entry.units) for name in UNIT_ARRAYS}
    arrays |= {f"{n}_{TONE}": unit.check_tone for n, unit in enumerate(entry.units) if unit.check_tone is not None}
    meta = {
        "units": [{name: getattr(unit, name) for name in UNIT_FIELDS} for unit in entry.units],
        "model": entry.model,
    }
    if entry.embedding is not None:
        arrays["embedding"] = entry.embedding
    _write(path, lambda f: np.savez_compressed(f, meta=np.array(json.dumps(meta)), **arrays))


def _load_entry(key: str, path: Path) -> Entry:
    with np.load(path) as data:
        meta = json.loads(str(data["meta"]))
        units = []
        for n, fields in enumerate(meta["units"]):
            arrays = {name: data[f"{n}_{name}"] for name in UNIT_ARRAYS}
            arrays[TONE] = data.get(f"{n}_{TONE}")
            fields = {
                **fields,
                "original_size": tuple(fields["original_size"]),
                "sift_size": tuple(fields["sift_size"]),
            }
            fields["box"] = tuple(fields["box"]) if fields["box"] else None
            fields["panels"] = [tuple(box) for box in fields["panels"]]
            units.append(ItemFeatures(**fields, **arrays, clip_input=np.zeros((0, 0, 3), np.uint8)))
        embedding = data.get("embedding")
    return Entry(key, units, embedding, meta["model"])


def _write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Written aside, then renamed over the old file: readers see the old file or the new, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}")
    with open(aside, "wb") as f:
        write(f)
    os.replace(aside, path)
