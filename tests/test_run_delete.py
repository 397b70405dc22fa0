from pathlib import Path

import pytest

from analysis.models import Item, Run


@pytest.mark.django_db
def test_it_deletes_the_run_its_rows_and_its_files(alice_client, finished_run, media):
    folder = Path(media) / finished_run.folder
    assert any(folder.rglob("*.jpg")) and any(folder.glob("*.png"))
    response = alice_client.post(f"/runs/{finished_run.code}/delete/")
    assert response.status_code == 302
    assert response.url == "/runs/"
    assert not Run.objects.filter(pk=finished_run.pk).exists()
    assert Item.objects.count() == 0
    assert not folder.exists()


@pytest.mark.django_db
def test_a_run_in_progress_must_be_cancelled_first(alice_client, queued_run):
    response = alice_client.post(f"/runs/{queued_run.code}/delete/")
    assert response.status_code == 409
    assert Run.objects.filter(pk=queued_run.pk).exists()


@pytest.mark.django_db
def test_bob_gets_404(bob_client, finished_run):
    assert bob_client.post(f"/runs/{finished_run.code}/delete/").status_code == 404
    assert Run.objects.filter(pk=finished_run.pk).exists()
