"""Messages over the channel layer: a queued run wakes the workers, a changed run redraws its open pages.

They only hurry things along; the database is the record. A lost wake-up costs at most POLL_SECONDS (the
workers look at the queue that often), a lost redraw only a page that catches up when it reconnects.
"""

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.worker import Worker

from analysis.models import Run

log = logging.getLogger(__name__)

ANALYSIS_CHANNEL = "analysis"
POLL_SECONDS = 2.0


def queue_message(run_pk: int) -> dict:
    """The wake-up for the workers: only the id, the database holds the rest."""
    return {"type": "run.queued", "run": run_pk}


def announce_queued(run_pk: int) -> None:
    """Wakes a worker; when the channel layer is down the workers still find the run within POLL_SECONDS."""
    try:
        async_to_sync(get_channel_layer().send)(ANALYSIS_CHANNEL, queue_message(run_pk))
    except Exception as exc:
        log.warning("no worker woken for run %s: %s", run_pk, exc)


async def listen_for_wake_ups(application) -> None:
    """Feeds the analysis channel to RunWorker for as long as the process lives, through channel-layer outages."""
    while True:
        try:
            await Worker(application, [ANALYSIS_CHANNEL], get_channel_layer()).arun()
        except Exception as exc:
            log.warning("wake-ups not heard (%s); listening again in %s s", exc, POLL_SECONDS)
        await asyncio.sleep(POLL_SECONDS)


def notify(run: Run) -> None:
    """Tells the run's open pages to redraw from the database; a channel layer that is down costs only that."""
    try:
        async_to_sync(get_channel_layer().group_send)(run.group_name, {"type": "run.changed"})
    except Exception as exc:  # Redis restarting, say: the page catches up when it reconnects
        log.warning("progress of %s not announced: %s", run.code, exc)
