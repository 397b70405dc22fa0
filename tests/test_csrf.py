import pytest
from django.test import Client

from analysis.models import Run


@pytest.fixture
def strict_client(alice) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/runs/{code}/cancel/",
        "/runs/{code}/delete/",
        "/runs/{code}/pairs/1/",
        "/accounts/api-keys/",
        "/accounts/logout/",
        "/accounts/signup/",
    ],
)
def test_every_post_needs_the_csrf_token(strict_client, queued_run, path):
    response = strict_client.post(path.format(code=queued_run.code), {"username": "mallory"})
    assert response.status_code == 403
    queued_run.refresh_from_db()
    assert queued_run.status == Run.Status.QUEUED
    assert strict_client.get("/").status_code == 200  # still signed in


@pytest.mark.django_db
def test_sign_in_needs_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice's password"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_with_the_token_from_the_page_a_post_goes_through(strict_client, queued_run):
    page = strict_client.get(f"/runs/{queued_run.code}/")
    token = page.context["csrf_token"]
    response = strict_client.post(f"/runs/{queued_run.code}/cancel/", {"csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302
