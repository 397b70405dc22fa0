"""Throttles, answered with 429 and Retry-After: sign-in per account and per address (django-axes, the admin's
too), sign-up per address, wrong API keys per address and submissions per user (django-ratelimit); and the
default that sign-up is open only for the first account."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from analysis.models import ApiToken, Run
from tests.conftest import png_upload
from tests.images import scene

PASSWORD = "alice's password"


def sign_in(client: Client, password: str, path: str = "/accounts/login/", address: str = "10.0.0.1"):
    return client.post(path, {"username": "alice", "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_wrong_passwords_lock_the_account_even_against_the_right_one(client, alice, settings, path):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong", path).status_code == 200  # the form again, with its message
    refused = sign_in(client, "wrong", path)
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(15 * 60)
    assert "try again in 15 minutes" in refused.content.decode()
    # the right password, from another address too: the account is locked
    assert sign_in(client, PASSWORD, path).status_code == 429
    assert sign_in(Client(), PASSWORD, path, address="10.0.0.2").status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_one_address_trying_many_accounts_is_locked_out(client, alice, django_user_model, settings):
    for number in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": f"user{number}", "password": "x"}, REMOTE_ADDR="10.0.0.9")
    assert sign_in(client, PASSWORD, address="10.0.0.9").status_code == 429
    assert sign_in(Client(), PASSWORD, address="10.0.0.3").status_code == 302  # alice, from elsewhere


@pytest.mark.django_db
def test_a_right_password_before_the_limit_signs_in_and_clears_the_count(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong")
    assert sign_in(client, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_sign_ups_from_one_address_are_throttled(client, settings):
    answers = []
    for number in range(settings.SIGNUPS_PER_ADDRESS[0] + 1):
        password = "a long test passphrase 7"
        answers.append(
            Client().post(
                "/accounts/signup/",
                {"username": f"user{number}", "password1": password, "password2": password},
                REMOTE_ADDR="10.0.0.4",
            )
        )
    assert [answer.status_code for answer in answers] == [302] * settings.SIGNUPS_PER_ADDRESS[0] + [429]
    assert answers[-1]["Retry-After"] == "3600"


@pytest.mark.django_db
def test_wrong_api_keys_from_one_address_are_throttled_and_then_even_a_right_key_waits(alice, settings):
    _, key = ApiToken.issue(alice, "script")
    guesser = Client(headers={"Authorization": "Bearer dc_guess"}, REMOTE_ADDR="10.0.0.5")
    answers = [guesser.get("/api/runs/").status_code for _ in range(settings.API_KEY_FAILURES_PER_ADDRESS[0] + 1)]
    assert answers == [401] * settings.API_KEY_FAILURES_PER_ADDRESS[0] + [429]
    right = Client(headers={"Authorization": f"Bearer {key}"}, REMOTE_ADDR="10.0.0.5").get("/api/runs/")
    assert right.status_code == 429 and right["Retry-After"] == "60"
    assert right.json()["error"].startswith("too many wrong API keys from this address")
    assert (
        Client(headers={"Authorization": f"Bearer {key}"}, REMOTE_ADDR="10.0.0.6").get("/api/runs/").status_code == 200
    )


@pytest.mark.django_db
def test_submissions_are_throttled_per_user(alice, alice_client, settings, tmp_path):
    settings.SUBMISSIONS_PER_USER = (2, 3600)
    settings.USER_MAX_ACTIVE_RUNS = 10
    for _ in range(2):
        assert alice_client.post("/", {"files": [png_upload("a.png", scene(1, 64, 48), tmp_path)]}).status_code == 302
    refused = alice_client.post("/", {"files": [png_upload("a.png", scene(1, 64, 48), tmp_path)]})
    assert refused.status_code == 429 and refused["Retry-After"] == "3600"
    assert Run.objects.filter(owner=alice).count() == 2
    _, key = ApiToken.issue(alice, "script")
    api = Client(headers={"Authorization": f"Bearer {key}"})
    answer = api.post("/api/runs/", {"files": [SimpleUploadedFile("a.png", b"x")]})
    assert answer.status_code == 429 and answer.json()["error"].startswith("too many submissions")


@pytest.mark.django_db
def test_by_default_sign_up_is_open_for_the_first_account_only_which_administers(client, settings, django_user_model):
    settings.SIGNUP_ENABLED = None
    assert b'href="/accounts/signup/"' in client.get("/").content
    password = "a long test passphrase 7"
    client.post("/accounts/signup/", {"username": "admin", "password1": password, "password2": password})
    first = django_user_model.objects.get()
    assert first.is_staff and first.is_superuser
    visitor = Client()
    assert b"/accounts/signup/" not in visitor.get("/").content
    assert visitor.get("/accounts/signup/").status_code == 404
    refused = visitor.post("/accounts/signup/", {"username": "second", "password1": password, "password2": password})
    assert refused.status_code == 404 and django_user_model.objects.count() == 1
