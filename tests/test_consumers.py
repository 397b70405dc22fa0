import asyncio
import contextlib

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import ApplicationCommunicator, WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from analysis import worker
from analysis.consumers import RunWorker
from analysis.models import Run
from analysis.routing import websocket_urlpatterns
from deepchecker_site.asgi import application
from tests.commands import manage
from tests.jobs import take


def communicator(run: Run, user) -> WebsocketCommunicator:
    connection = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/runs/{run.code}/")
    connection.scope["user"] = user
    return connection


@contextlib.asynccontextmanager
async def connected(run: Run, user):
    """An open socket to the run's page, and the HTML it sent on connecting; always disconnected after."""
    connection = communicator(run, user)
    accepted, _ = await connection.connect()
    try:
        assert accepted
        yield connection, await connection.receive_from()
    finally:
        await connection.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_owner_gets_the_current_progress_on_connecting(queued_run, alice):
    async with connected(queued_run, alice) as (_, html):
        assert html.lstrip().startswith('<section id="run-progress"')
        assert "Queued" in html


@pytest.mark.django_db(transaction=True)
async def test_a_change_announced_to_the_group_is_sent_as_html(queued_run, alice):
    async with connected(queued_run, alice) as (connection, _):
        running = await sync_to_async(take)(queued_run)
        await sync_to_async(running.set_stage)("reading", 2, 4)
        await get_channel_layer().group_send(queued_run.group_name, {"type": "run.changed"})
        html = await connection.receive_from()
        assert '<progress id="stage-reading" max="4" value="2">' in html
        assert "Running" in html


@pytest.mark.django_db(transaction=True)
async def test_a_finished_run_sends_its_results_and_closes_normally(finished_run, alice):
    async with connected(finished_run, alice) as (connection, html):
        assert '<section id="run-progress"' in html and '<section id="run-results"' in html
        assert "fig2/blot_turned.png" in html
        assert await connection.receive_output() == {"type": "websocket.close", "code": 1000}


async def assert_refused(connection: WebsocketCommunicator) -> None:
    accepted, _ = await connection.connect()
    try:
        assert not accepted
    finally:
        await connection.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", ["bob", "anonymous"])
async def test_nobody_else_may_listen(queued_run, bob, who):
    await assert_refused(communicator(queued_run, bob if who == "bob" else AnonymousUser()))


@pytest.mark.django_db(transaction=True)
async def test_a_socket_from_a_foreign_origin_is_refused(queued_run):
    headers = [(b"origin", b"https://evil.example"), (b"host", b"127.0.0.1")]
    await assert_refused(WebsocketCommunicator(application, f"/ws/runs/{queued_run.code}/", headers=headers))


@pytest.mark.django_db(transaction=True)
async def test_the_worker_consumer_wakes_the_runner_which_runs_the_queued_run(queued_run, monkeypatch):
    monkeypatch.setattr(worker, "POLL_SECONDS", 600)  # only the wake-up can start it in time
    runner = await sync_to_async(worker.start_runner)()
    listener = ApplicationCommunicator(RunWorker.as_asgi(), {"type": "channel", "channel": "analysis"})
    try:
        await asyncio.sleep(0.5)  # the runner has looked once and waits
        await listener.send_input({"type": "run.queued", "run": queued_run.pk})
        for _ in range(300):
            await asyncio.sleep(0.1)
            await sync_to_async(queued_run.refresh_from_db)()
            if queued_run.is_over:
                break
    finally:
        runner.stop()
        await asyncio.to_thread(runner.join, 10)
        listener.future.cancel()  # the consumer would wait for the next message for ever
        with contextlib.suppress(asyncio.CancelledError):
            await listener.future
    assert queued_run.status == Run.Status.DONE
    assert queued_run.duplicate_count == 1


@pytest.mark.django_db(transaction=True)
async def test_staff_may_follow_any_run(queued_run, admin_user):
    async with connected(queued_run, admin_user) as (_, html):
        assert "Queued" in html


def test_the_websocket_side_loads_neither_opencv_nor_torch():
    code = (
        "import django, sys; django.setup(); import analysis.consumers, analysis.fragments; "
        "print(sorted(m for m in ('cv2', 'torch') if m in sys.modules))"
    )
    done = manage("shell", "--no-imports", "-c", code, DEBUG="1", DATA_DIR="/tmp")
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr


@pytest.mark.django_db(transaction=True)
async def test_a_socket_opened_while_the_channel_layer_is_down_is_refused_cleanly(queued_run, alice, monkeypatch):
    async def down(*args):
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(get_channel_layer(), "group_add", down)
    await assert_refused(communicator(queued_run, alice))  # refused, not a server error: the page tries again
