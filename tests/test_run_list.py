import pytest

from analysis.models import Run


@pytest.mark.django_db
def test_it_lists_the_users_own_runs_only(alice_client, finished_run, bob):
    Run.objects.create(owner=bob, status=Run.Status.DONE)
    response = alice_client.get("/runs/")
    assert list(response.context["runs"]) == [finished_run]
    html = response.content.decode()
    assert finished_run.get_absolute_url() in html
    assert ">Done</span>" in html
    assert f"/runs/{finished_run.code}/delete/" in html


@pytest.mark.django_db
def test_it_says_when_there_is_nothing_yet(bob_client, finished_run):
    response = bob_client.get("/runs/")
    assert b"No analyses yet." in response.content
    assert str(finished_run.code).encode() not in response.content


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get("/runs/").url == "/accounts/login/?next=/runs/"
