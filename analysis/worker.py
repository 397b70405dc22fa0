"""Runs one analysis for the background worker: the engine between two database updates.

Blocking code; the worker consumer calls it in a thread of its own.
"""

import logging
import time
from pathlib import Path

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from analysis.models import Run

log = logging.getLogger(__name__)

ANALYSIS_CHANNEL = "analysis"
PROGRESS_INTERVAL = 0.5  # seconds between two progress messages of one stage: a few per second at most
CANCEL_CHECK_INTERVAL = 1.0


def queue_message(run_pk: int) -> dict:
    """The wake-up for the worker: only the id, the database holds the rest."""
    return {"type": "run.queued", "run": run_pk}


def notify(run: Run) -> None:
    """Tells the run's open pages to redraw from the database."""
    async_to_sync(get_channel_layer().group_send)(run.group_name, {"type": "run.changed"})


class StageReporter:
    """The engine's progress callback: stored and announced on each new stage, then at most every interval."""

    def __init__(self, run: Run):
        self.run = run
        self.stage = None
        self.sent = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == self.stage and done < total and now - self.sent < PROGRESS_INTERVAL:
            return
        self.stage, self.sent = stage, now
        self.run.set_stage(stage, done, total)
        notify(self.run)


class CancelWatch:
    def __init__(self, run: Run):
        self.run = run
        self.checked = 0.0

    def __call__(self) -> bool:
        now = time.monotonic()
        if now - self.checked < CANCEL_CHECK_INTERVAL:
            return False
        self.checked = now
        return self.run.cancel_is_requested()


def analyse(run_pk: int) -> None:
    """Claims the run and executes it; does nothing when another worker has it or it was cancelled."""
    # imported here: the web process serves pages without loading torch
    from analysis.engine.pipeline import Cancelled, Options, find_duplicates
    from analysis.engine.sources import SourceFile

    if not Run.claim(run_pk):
        return
    run = Run.objects.get(pk=run_pk)
    notify(run)
    try:
        files = [SourceFile(upload.file.path, upload.name) for upload in run.uploads.all()]
        options = Options(
            model=run.clip_model,
            clip_weights=settings.CLIP_WEIGHTS if run.clip_model == settings.CLIP_MODEL else None,
            clip_cache_dir=settings.CLIP_CACHE_DIR,
            clip_download=settings.CLIP_DOWNLOAD,
            workers=settings.ENGINE_WORKERS,
            preview_dir=str(Path(settings.MEDIA_ROOT) / run.preview_folder),
        )
        result = find_duplicates(files, options, StageReporter(run), CancelWatch(run))
        run.store_result(result)
        if result.items:
            run.finish(Run.Status.DONE)
        else:
            run.finish(Run.Status.FAILED, f"none of the {len(files)} files could be read: see the skipped files")
    except Cancelled:
        run.finish(Run.Status.CANCELLED)
    except Exception:
        log.exception("analysis %s failed", run.code)
        run.finish(Run.Status.FAILED, "the analysis stopped on an internal error; it is logged on the server")
    notify(run)
