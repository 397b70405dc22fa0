import logging
import threading
import time
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.utils import timezone
from PIL import Image

from analysis import worker
from analysis.engine import pipeline
from analysis.models import Run, Upload
from analysis.worker import QueueRunner
from tests.layers import received

LEASE = timedelta(seconds=30)


@pytest.mark.django_db
def test_it_analyses_a_queued_run_and_stores_what_it_found(finished_run: Run):
    run = finished_run
    assert run.status == Run.Status.DONE
    assert run.started and run.finished and run.error == ""
    assert (run.worker, run.attempts, run.lease_until) == ("test worker", 1, None)
    assert (run.item_count, run.skipped_count, run.duplicate_count, run.group_count) == (3, 1, 1, 1)
    assert "semantic ranking unavailable" in run.clip_notice
    best = run.pairs.first()
    assert {best.first.name, best.second.name} == {"fig1/blot.png", "fig2/blot_turned.png"}
    assert best.verdict == "duplicate"
    assert best.confidence > 0.99 and best.confidence_band == "high"
    assert all(pair.confidence < 0.5 for pair in run.pairs.exclude(verdict="duplicate"))
    assert run.items.get(name="notes.jpg").skipped.startswith("not a readable image")


@pytest.mark.django_db
def test_it_keeps_a_thumbnail_and_a_view_of_each_item(finished_run: Run):
    for item in finished_run.items.filter(skipped=""):
        assert item.kind == "image"
        with Image.open(item.thumbnail.path) as thumbnail, Image.open(item.preview.path) as view:
            assert max(thumbnail.size) == 256
            assert view.size == (item.width, item.height)  # 400 x 300: smaller than the view size, kept


@pytest.mark.django_db
def test_it_finds_nothing_to_do_when_nothing_is_queued(queued_run: Run):
    queued_run.request_cancel()
    assert not QueueRunner("test worker").run_next()
    queued_run.refresh_from_db()
    assert queued_run.status == Run.Status.CANCELLED
    assert queued_run.items.count() == 0


@pytest.mark.django_db
def test_it_takes_the_oldest_run_first(alice):
    first, second = Run.objects.create(owner=alice), Run.objects.create(owner=alice)
    assert Run.claim_next("a", LEASE) == first
    assert Run.claim_next("b", LEASE) == second
    assert Run.claim_next("c", LEASE) is None


@pytest.mark.django_db(transaction=True)
def test_a_heartbeat_goes_on_through_a_failed_renewal(alice, monkeypatch, caplog):
    run = Run.objects.create(owner=alice)
    claimed = Run.claim_next("test worker", LEASE)
    renew = Run.renew_lease
    calls = []

    def renew_once_failing(self, lease):
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise OperationalError("database table is locked")
        return renew(self, lease)

    monkeypatch.setattr(Run, "renew_lease", renew_once_failing)
    started = timezone.now()
    with worker.Heartbeat(claimed, timedelta(seconds=0.6)) as heartbeat:
        deadline = time.monotonic() + 10
        while len(calls) < 3:
            assert time.monotonic() < deadline, calls
            time.sleep(0.05)
    assert not heartbeat.lost
    assert Run.objects.get(pk=run.pk).lease_until > started + timedelta(seconds=0.6)  # later beats renewed it
    assert "not renewed this time: database table is locked" in caplog.text


@pytest.mark.django_db
def test_a_run_whose_lease_ran_out_is_taken_again(alice):
    run = Run.objects.create(owner=alice)
    lost = Run.claim_next("lost worker", LEASE)
    lost.set_stage("verifying", 3, 9)
    assert Run.claim_next("other worker", LEASE) is None  # the lease still holds
    Run.objects.filter(pk=run.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    taken = Run.claim_next("other worker", LEASE)
    assert (taken, taken.worker, taken.attempts, taken.stage) == (run, "other worker", 2, "")
    # the lost worker can no longer write to it
    assert not lost.renew_lease(LEASE)
    lost.finish(Run.Status.FAILED, "late")
    taken.refresh_from_db()
    assert (taken.status, taken.error) == (Run.Status.RUNNING, "")


@pytest.mark.django_db
def test_after_the_last_attempt_the_run_fails_with_the_reason(alice, settings):
    run = Run.objects.create(owner=alice)
    for _ in range(settings.JOB_MAX_ATTEMPTS):
        Run.claim_next("crashing worker", LEASE)
        Run.objects.filter(pk=run.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert not QueueRunner("next worker").run_next()
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED
    assert run.error.startswith(f"the analysis was started {settings.JOB_MAX_ATTEMPTS} times and its worker stopped")


@pytest.mark.django_db
def test_a_stopping_worker_hands_its_run_back(queued_run: Run):
    runner = QueueRunner("stopping worker")
    runner.stop()
    runner.run_next()
    queued_run.refresh_from_db()
    assert (queued_run.status, queued_run.worker, queued_run.attempts) == (Run.Status.QUEUED, "", 0)
    assert queued_run.items.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_worker_stopped_inside_a_long_step_hands_the_run_back_and_stores_nothing_after(queued_run: Run, monkeypatch):
    inside, leave = threading.Event(), threading.Event()
    analyse = pipeline.find_duplicates

    def long_step(files, options, progress, cancelled, indexes):
        inside.set()
        leave.wait(60)  # a step that does not look at `cancelled`, as loading CLIP or verifying a large pair
        return analyse(files, options, progress, lambda: False, indexes)

    monkeypatch.setattr(pipeline, "find_duplicates", long_step)
    runner = QueueRunner("stopping worker")
    runner.start()
    try:
        assert inside.wait(60)
        runner.hand_back()  # waits HAND_BACK_SECONDS for the engine, then releases the run itself
        queued_run.refresh_from_db()
        assert (queued_run.status, queued_run.worker, queued_run.attempts) == (Run.Status.QUEUED, "", 0)
    finally:
        leave.set()
        runner.join(120)
    queued_run.refresh_from_db()
    assert (queued_run.status, queued_run.worker, queued_run.attempts) == (Run.Status.QUEUED, "", 0)
    assert queued_run.items.count() == 0  # the engine finished, but no longer held the run


@pytest.mark.django_db
def test_a_cancel_request_stops_the_run(queued_run: Run, monkeypatch):
    monkeypatch.setattr(worker, "STOP_CHECK_INTERVAL", 0)
    Run.objects.filter(pk=queued_run.pk).update(cancel_requested=True)  # as the web process does once it runs
    QueueRunner("test worker").run_next()
    queued_run.refresh_from_db()
    assert queued_run.status == Run.Status.CANCELLED
    assert queued_run.stage == "reading"
    assert queued_run.finished is not None


@pytest.mark.django_db
def test_a_run_with_nothing_readable_fails_and_lists_the_reasons(alice):
    run = Run.objects.create(owner=alice)
    Upload.store(run, SimpleUploadedFile("a.png", b""), "a.png")
    QueueRunner("test worker").run_next()
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED
    assert run.error == "none of the 1 files could be read: see the skipped files"
    assert run.items.get().skipped == "empty file (0 bytes)"


@pytest.mark.django_db
def test_an_unexpected_error_fails_the_run_with_a_short_message_and_a_logged_traceback(
    queued_run: Run, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("analysis.engine.pipeline.find_duplicates", broken)
    with caplog.at_level(logging.ERROR):
        QueueRunner("test worker").run_next()
    queued_run.refresh_from_db()
    assert queued_run.status == Run.Status.FAILED
    assert "internal error" in queued_run.error
    assert "disk on fire" not in queued_run.error
    assert "disk on fire" in caplog.text


@pytest.mark.django_db
def test_it_tells_the_runs_group(queued_run: Run):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(queued_run.group_name, channel)
    QueueRunner("test worker").run_next()
    messages = received(channel)
    assert messages and all(message == {"type": "run.changed"} for message in messages)


@pytest.mark.django_db
def test_it_announces_progress_twice_a_second_at_most_and_the_end_at_once(queued_run: Run, monkeypatch):
    told = []
    monkeypatch.setattr(worker, "notify", lambda run: told.append((time.monotonic(), run.status)))
    monkeypatch.setattr(worker, "PROGRESS_INTERVAL", 0.05)
    QueueRunner("test worker").run_next()
    assert len(told) >= 3  # started, some progress, done
    # the last comes at once; the others keep the interval
    gaps = [later - earlier for (earlier, _), (later, _) in zip(told[:-2], told[1:-1], strict=True)]
    assert min(gaps) >= 0.049
    assert told[-1][1] == Run.Status.DONE
    time.sleep(0.1)
    assert told[-1][1] == Run.Status.DONE  # nothing pending was sent after the end


@pytest.mark.django_db
def test_a_channel_layer_that_is_down_costs_only_the_messages(queued_run: Run, monkeypatch, caplog):
    async def down(*args, **kwargs):
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(get_channel_layer(), "group_send", down)
    with caplog.at_level(logging.WARNING):
        QueueRunner("test worker").run_next()
    queued_run.refresh_from_db()
    assert queued_run.status == Run.Status.DONE
    assert "Redis is restarting" in caplog.text
