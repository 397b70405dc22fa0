"""Reading files in worker processes that are each watched: one that crashes, runs out of memory or takes too
long costs only the file it was reading, which is skipped with the reason.

Each reader is handed one file at a time, so the parent always knows which file a lost reader was on.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait

import cv2
from threadpoolctl import threadpool_limits

from .clones import CloneOptions, find_clone
from .features import FeatureOptions, ItemFeatures, extract
from .previews import save_previews
from .sources import Limits, Skipped, SourceFile, UnreadableItem, decode, expand
from .verify import VerifyOptions

log = logging.getLogger(__name__)

FileResult = tuple[list[ItemFeatures], list[Skipped]]
STARTED = "started"  # a reader's word that it has its file: lost before it, the file was not to blame


@dataclass(frozen=True)
class ReaderOptions:
    limits: Limits
    features: FeatureOptions
    verify: VerifyOptions
    clones: CloneOptions
    preview_dir: str | None = None  # where to write each item's thumbnail and view (previews.py)


def read_file(source: SourceFile, options: ReaderOptions) -> FileResult:
    """Features of every item in one file, the copies inside each picture, and its pictures when asked.

    Runs in a reader process, so imports no torch.
    """
    limits = options.limits
    try:
        refs = expand(source, limits)
    except UnreadableItem as exc:
        return [], [Skipped(source.name, str(exc))]
    except MemoryError:
        return [], [Skipped(source.name, _too_big(limits))]
    except Exception:
        log.exception("unexpected error listing %s", source.name)
        return [], [Skipped(source.name, "could not be read (internal error, logged)")]
    features, skipped = [], []
    for ref in refs:
        try:
            started = time.perf_counter()
            decoded = decode(ref, options.features.sift_max_side, limits)
            found = extract(decoded, options.features)
            found[0].clone = find_clone(found[0], decoded.rgb, options.verify, options.clones)
            if options.preview_dir:
                found[0].preview = save_previews(decoded.rgb, ref.name, options.preview_dir)
            found[0].seconds = time.perf_counter() - started
            features.extend(found)
        except UnreadableItem as exc:
            skipped.append(Skipped(ref.name, str(exc)))
        except MemoryError:
            skipped.append(Skipped(ref.name, _too_big(limits)))
        except Exception:
            log.exception("unexpected error reading %s", ref.name)
            skipped.append(Skipped(ref.name, "could not be read (internal error, logged)"))
    return features, skipped


def _too_big(limits: Limits) -> str:
    return f"needs more memory than a reader may use ({limits.reader_memory_mb} MB)"


def _exit_with_parent(parent: int) -> None:
    """Readers end soon after their parent dies, even by kill -9, instead of waiting for work for ever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _reader_main(connection, parent: int, options: ReaderOptions) -> None:
    _exit_with_parent(parent)
    # one reader per core already: OpenCV's and BLAS's own thread pools would only contend with the other
    # readers (BLAS's spinning threads made reading a third slower)
    cv2.setNumThreads(1)
    threadpool_limits(1)
    # counted from what the reader has mapped once started: the libraries a caller's main module loads (torch
    # maps gigabytes it never touches) are not what reading one file may take
    memory = _mapped_bytes() + options.limits.reader_memory_mb * 1024**2
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    while True:
        try:
            source = connection.recv()
        except EOFError:
            return
        connection.send(STARTED)
        connection.send(read_file(source, options))


def _mapped_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


class _Reader:
    def __init__(self, context, options: ReaderOptions):
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_reader_main, args=(child, os.getpid(), options), daemon=True)
        self.process.start()
        child.close()
        self.task: int | None = None
        self.started: float | None = None

    def give(self, task: int, source: SourceFile) -> None:
        self.connection.send(source)
        self.task, self.started = task, None

    def end(self) -> None:
        self.connection.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join()


def read_in_processes(
    files: Sequence[SourceFile],
    options: ReaderOptions,
    processes: int,
    on_done: Callable[[int], None],
) -> list[FileResult]:
    """Every file's result, in the order given; on_done(count) after each, and it may raise to stop. Once the
    run holds `limits.max_items_per_run` pictures, the files not yet read are skipped unread, with the reason."""
    # spawn, not fork: the caller may hold threads (torch, an event loop)
    context = multiprocessing.get_context("spawn")
    results: list[FileResult | None] = [None] * len(files)
    waiting = deque(range(len(files)))
    readers = [_Reader(context, options) for _ in range(min(processes, len(files)))]
    finished = pictures = 0
    cap = options.limits.max_items_per_run
    try:
        while finished < len(files):
            while waiting and pictures >= cap:
                task = waiting.popleft()
                results[task] = ([], [Skipped(files[task].name, _over_the_cap(cap))])
                finished += 1
                on_done(finished)
            for position, reader in enumerate(readers):
                if reader.task is None and waiting:
                    if not reader.process.is_alive():  # lost while idle: its successor takes the file
                        reader.end()
                        reader = readers[position] = _Reader(context, options)
                    task = waiting.popleft()
                    reader.give(task, files[task])
            busy = [reader for reader in readers if reader.task is not None]
            wait([reader.connection for reader in busy] + [reader.process.sentinel for reader in busy], timeout=0.5)
            for position, reader in enumerate(readers):
                if reader.task is None:
                    continue
                outcome, reader_lost = _outcome(reader, files[reader.task], options.limits)
                if reader_lost:
                    reader.end()
                    readers[position] = _Reader(context, options)
                if outcome is None:
                    if reader_lost:  # before it had the file: another reader takes it
                        waiting.appendleft(reader.task)
                    continue
                outcome, pictures = _within_the_cap(outcome, pictures, cap)
                results[reader.task] = outcome
                reader.task = None
                finished += 1
                on_done(finished)
    finally:
        for reader in readers:
            reader.end()
    return results  # type: ignore[return-value]


def _over_the_cap(cap: int) -> str:
    return (
        f"not read: the analysis already holds {cap} pictures, the most one analysis compares; analyse the rest apart"
    )


def _within_the_cap(outcome: FileResult, pictures: int, cap: int) -> tuple[FileResult, int]:
    """A file's result with its pictures past the run's cap left out (a PDF may hold many), and the new count."""
    found, lost = outcome
    kept, over = [], []
    for unit in found:
        if unit.parent is None:
            pictures += 1
        if pictures > cap:
            if unit.parent is None:
                over.append(Skipped(unit.name, _over_the_cap(cap)))
            continue
        kept.append(unit)
    return (kept, lost + over), min(pictures, cap)


def _outcome(reader: _Reader, source: SourceFile, limits: Limits) -> tuple[FileResult | None, bool]:
    """(result, False) once the reader answers; (None, False) while it works; (skipped file, True) when
    it was lost on the file; (None, True) when it was lost before it had the file."""
    try:
        while reader.connection.poll():
            message = reader.connection.recv()
            if message != STARTED:
                return message, False
            reader.started = time.monotonic()
    except (EOFError, OSError):
        pass  # it died: as below
    if not reader.process.is_alive() or reader.connection.closed:
        reader.process.join()
        if reader.started is None:
            return None, True
        reason = (
            f"the reader stopped while reading this file (exit code {reader.process.exitcode}); "
            "the file may be broken or hostile"
        )
        return ([], [Skipped(source.name, reason)]), True
    if reader.started is not None and time.monotonic() - reader.started > limits.read_timeout_seconds:
        reason = f"reading took longer than {limits.read_timeout_seconds:g} s; the file is too large or malformed"
        return ([], [Skipped(source.name, reason)]), True
    return None, False
