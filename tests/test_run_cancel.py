import pytest

from analysis.models import Run
from tests.jobs import take


@pytest.mark.django_db
def test_a_queued_run_is_cancelled_at_once(alice_client, queued_run):
    response = alice_client.post(f"/runs/{queued_run.code}/cancel/")
    assert response.status_code == 302
    queued_run.refresh_from_db()
    assert queued_run.status == Run.Status.CANCELLED
    assert queued_run.finished is not None


@pytest.mark.django_db
def test_a_running_run_is_asked_to_stop(alice_client, queued_run):
    take(queued_run)
    alice_client.post(f"/runs/{queued_run.code}/cancel/")
    queued_run.refresh_from_db()
    assert queued_run.status == Run.Status.RUNNING
    assert queued_run.cancel_requested
    assert b"stopping" in alice_client.get(f"/runs/{queued_run.code}/").content


@pytest.mark.django_db
def test_a_finished_run_stays_as_it_is(alice_client, finished_run):
    alice_client.post(f"/runs/{finished_run.code}/cancel/")
    finished_run.refresh_from_db()
    assert finished_run.status == Run.Status.DONE
    assert not finished_run.cancel_requested


@pytest.mark.django_db
def test_it_needs_a_post(alice_client, queued_run):
    assert alice_client.get(f"/runs/{queued_run.code}/cancel/").status_code == 405


@pytest.mark.django_db
def test_bob_gets_404(bob_client, queued_run):
    assert bob_client.post(f"/runs/{queued_run.code}/cancel/").status_code == 404
    queued_run.refresh_from_db()
    assert queued_run.status == Run.Status.QUEUED


@pytest.mark.django_db
def test_htmx_gets_the_progress_section_back(alice_client, queued_run):
    take(queued_run)
    response = alice_client.post(f"/runs/{queued_run.code}/cancel/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="run-progress"')
    assert "stopping" in html and "Cancel analysis" not in html
