"""The background worker: takes runs from the database, which is the queue of record, and runs the engine.

Channel messages only wake a worker up (wakeups.py); a lost message costs at most POLL_SECONDS. A worker holds its run
by a lease that a heartbeat renews; when the worker dies, another one takes the run once the lease has run
out, up to JOB_MAX_ATTEMPTS attempts in all. Blocking code: it runs in a thread of its own.
"""

import logging
import os
import socket
import threading
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction

from analysis import results
from analysis.models import Run
from analysis.wakeups import POLL_SECONDS, notify

log = logging.getLogger(__name__)

HAND_BACK_SECONDS = 1.0  # a stopping worker's run is back in the queue within this, wherever the engine is
PROGRESS_INTERVAL = 0.5  # seconds between two progress messages of a run: two per second at most
STOP_CHECK_INTERVAL = 1.0


class RunLost(Exception):
    """Another worker took the run: this one's lease ran out (it was paused, or cut off from the database)."""


class Heartbeat:
    """Renews the lease in a thread of its own while the engine works."""

    def __init__(self, run: Run, lease: timedelta):
        self.run, self.lease = run, lease
        self.lost = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat {run.pk}", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._done.set()
        self._thread.join()

    def _beat(self) -> None:
        try:
            while not self._done.wait(self.lease.total_seconds() / 6):
                try:
                    renewed = self.run.renew_lease(self.lease)
                except DatabaseError as exc:  # a moment's trouble: the lease outlasts five more beats
                    log.warning("lease of %s not renewed this time: %s", self.run.code, exc)
                    connection.close()  # the next beat connects afresh
                    continue
                if not renewed:
                    self.lost = True
                    return
        finally:
            connection.close()


class Announcer:
    """Tells the run's pages at most once per PROGRESS_INTERVAL; what comes between is sent at the interval's end."""

    def __init__(self, run: Run):
        self.run = run
        self.sent = 0.0
        self._pending: threading.Timer | None = None
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            if self._pending is not None:
                return  # the send already due carries this change too (a late timer must not send twice)
            wait = self.sent + PROGRESS_INTERVAL - time.monotonic()
            if wait <= 0:
                self._send()
            else:
                self._pending = threading.Timer(wait, self._send_pending)
                self._pending.start()

    def now(self) -> None:
        """The last word on a run: at once, and nothing left pending after it."""
        with self._lock:
            if self._pending is not None:
                self._pending.cancel()
                self._pending = None
            self._send()

    def _send_pending(self) -> None:
        with self._lock:
            self._pending = None
            self._send()

    def _send(self) -> None:
        self.sent = time.monotonic()
        notify(self.run)


class StageReporter:
    """The engine's progress callback: stored on each new stage and then at most every interval, and announced."""

    def __init__(self, run: Run, announce: Announcer):
        self.run, self.announce = run, announce
        self.stage = None
        self.stored = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == self.stage and done < total and now - self.stored < PROGRESS_INTERVAL:
            return
        self.stage, self.stored = stage, now
        self.run.set_stage(stage, done, total)
        self.announce()


class StopWatch:
    """The engine's `cancelled` callback: the user cancelled, the worker is stopping, or the lease is lost."""

    def __init__(self, run: Run, runner: "QueueRunner", heartbeat: Heartbeat):
        self.run, self.runner, self.heartbeat = run, runner, heartbeat
        self.checked = 0.0

    def __call__(self) -> bool:
        if self.runner.stopping.is_set() or self.heartbeat.lost:
            return True
        now = time.monotonic()
        if now - self.checked < STOP_CHECK_INTERVAL:
            return False
        self.checked = now
        return self.run.cancel_is_requested()


class QueueRunner:
    def __init__(self, name: str | None = None):
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease = timedelta(seconds=settings.JOB_LEASE_SECONDS)
        self.stopping = threading.Event()
        self.current: Run | None = None
        self._wake = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="analysis runner", daemon=True)
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """The engine lets go of the run in progress at its next check; then run_forever returns."""
        self.stopping.set()
        self._wake.set()

    def hand_back(self) -> None:
        """Stops, and puts the run in progress back in the queue within HAND_BACK_SECONDS.

        The engine checks for a stop between steps, and one step (loading CLIP, a search, a large pair) can take
        seconds: a run still held then is released here, and the process may exit with the engine inside it.
        Nothing the engine writes after that counts, as every write asks for the lease (`Run._held`)."""
        self.stop()
        self.join(HAND_BACK_SECONDS)
        run = self.current
        if self._thread.is_alive() and run is not None and run.release():
            log.info("analysis %s released: worker %s is stopping", run.code, self.name)
        connection.close()

    def run_forever(self) -> None:
        # the engine is loaded before the first claim, in this runner's thread: importing torch and FAISS holds
        # the interpreter for seconds on a busy machine, which must not eat into a lease (the web process of
        # `serve --no-worker` has no runner and never loads it)
        import analysis.engine.pipeline  # noqa: F401

        try:
            while not self.stopping.is_set():
                try:
                    found = self.run_next()
                except Exception:  # the database gone for a while, say: the run's lease brings it back
                    log.exception("worker %s could not take or finish a run; trying again", self.name)
                    found = False
                if not found:
                    self._wake.wait(POLL_SECONDS)
                    self._wake.clear()
        finally:
            connection.close()

    def run_next(self) -> bool:
        """Runs the next run, if there is one; False when there was none."""
        close_old_connections()
        for run in Run.fail_abandoned(settings.JOB_MAX_ATTEMPTS):
            log.error("analysis %s given up: %s", run.code, run.error)
            notify(run)
        run = Run.claim_next(self.name, self.lease)
        if run is None:
            return False
        log.info("analysis %s taken by %s (attempt %d)", run.code, self.name, run.attempts)
        self.current = run
        try:
            self._analyse(run)
        finally:
            self.current = None
        return True

    def _analyse(self, run: Run) -> None:
        # imported here: the web process serves pages without loading torch
        from analysis.engine.pipeline import Cancelled, find_duplicates
        from analysis.engine.sources import SourceFile

        announce = Announcer(run)
        announce()
        with Heartbeat(run, self.lease) as heartbeat:
            try:
                files = [SourceFile(upload.file.path, upload.name) for upload in run.uploads.all()]
                options, indexes = results.prepare(run)
                result = find_duplicates(
                    files, options, StageReporter(run, announce), StopWatch(run, self, heartbeat), indexes
                )
                if run.keeps_pictures:
                    run.set_stage("keeping", 0, len(result.kept))
                    announce()
                    started = time.perf_counter()
                    results.keep_in_library(run, result)
                    result.timings["keeping"] = time.perf_counter() - started
                with transaction.atomic():
                    if not run.holds_lease():
                        raise RunLost
                    results.store_result(run, result)
                    if result.items:
                        run.finish(Run.Status.DONE)
                    else:
                        run.finish(
                            Run.Status.FAILED, f"none of the {len(files)} files could be read: see the skipped files"
                        )
            except Cancelled:
                if heartbeat.lost:
                    log.warning("analysis %s: lease lost, left to the worker that took it", run.code)
                    return
                if self.stopping.is_set():
                    run.release()
                    log.info("analysis %s released: worker %s is stopping", run.code, self.name)
                else:
                    run.finish(Run.Status.CANCELLED)
            except RunLost:
                log.warning("analysis %s: lease lost before storing, left to the worker that took it", run.code)
                return
            except Exception:
                log.exception("analysis %s failed", run.code)
                run.finish(Run.Status.FAILED, "the analysis stopped on an internal error; it is logged on the server")
                if run.keeps_pictures:
                    run.library.forget_run(run)
            finally:
                announce.now()


_runner: QueueRunner | None = None  # the one runner of this process, when it has one


def start_runner() -> QueueRunner:
    """Starts this process's runner in a thread of its own."""
    global _runner
    _runner = QueueRunner()
    _runner.start()
    return _runner


def wake_runner() -> None:
    if _runner is not None:
        _runner.wake()
