import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from analysis.models import Run
from analysis.wakeups import ANALYSIS_CHANNEL
from tests.layers import received


def files(*names: str) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(name.rsplit("/", 1)[-1], f"bytes of {name}".encode()) for name in names]


@pytest.mark.django_db
def test_a_visitor_is_told_what_deepchecker_does_and_where_to_sign_in(client):
    html = client.get("/").content.decode()
    assert "<h1>Find duplicated images in figures and papers</h1>" in html
    assert 'href="/accounts/login/"' in html and 'href="/accounts/signup/"' in html
    refused = client.post("/", {"files": []})
    assert refused.status_code == 302 and refused.url == "/accounts/login/?next=/"


def test_the_favicon_is_there(client):
    assert b'<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in client.get("/").content
    icon = client.get("/favicon.ico")
    assert icon.status_code == 301 and icon.url == "/static/favicon.svg"


@pytest.mark.django_db
def test_it_shows_the_form_with_the_model_choice(alice_client):
    response = alice_client.get("/")
    assert response.status_code == 200
    assert b"Select folder" in response.content
    assert b"webkitdirectory" in response.content
    for model in (b"ViT-B-32", b"ViT-B-16", b"ViT-L-14"):
        assert model in response.content


@pytest.mark.django_db(transaction=True)
def test_it_stores_the_files_under_their_folder_names_and_queues_the_run(alice_client, alice):
    names = ["paper/fig1/a.png", "paper/fig2/a.png", "paper/b.pdf"]
    response = alice_client.post("/", {"files": files(*names), "paths": names, "clip_model": "ViT-B-16"})
    run = Run.objects.get(owner=alice)
    assert response.status_code == 302
    assert response.url == f"/runs/{run.code}/"
    assert run.status == Run.Status.QUEUED
    assert run.clip_model == "ViT-B-16"
    assert sorted(run.uploads.values_list("name", flat=True)) == sorted(names)
    upload = run.uploads.get(name="paper/b.pdf")
    with upload.file.open("rb") as stored:
        assert stored.read() == b"bytes of paper/b.pdf"
    assert upload.size == 20 and len(upload.sha256) == 64
    assert re.fullmatch(f"runs/{run.code}/[0-9a-f]{{32}}\\.pdf", upload.file.name)  # a generated name
    assert received(ANALYSIS_CHANNEL) == [{"type": "run.queued", "run": run.pk}]


@pytest.mark.django_db
def test_it_answers_htmx_with_a_client_redirect(alice_client, alice):
    response = alice_client.post(
        "/", {"files": files("a.png"), "clip_model": "ViT-B-32"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == Run.objects.get(owner=alice).get_absolute_url()


@pytest.mark.django_db
def test_it_cleans_unsafe_paths_and_keeps_same_names_apart(alice_client, alice):
    paths = ["../../etc/passwd.png", "a/./b\x00c.png", "x/fig.png", "x/fig.png", "/abs/" + "é" * 300 + ".png"]
    alice_client.post("/", {"files": files(*["f.png"] * 5), "paths": paths, "clip_model": "ViT-B-32"})
    names = list(Run.objects.get(owner=alice).uploads.values_list("name", flat=True))
    assert "etc/passwd.png" in names
    assert "a/bc.png" in names
    assert "x/fig.png" in names and "x/fig.png~2" in names
    assert "abs/" + "é" * 200 in names


@pytest.mark.django_db
def test_without_paths_it_uses_the_file_names(alice_client, alice):
    alice_client.post("/", {"files": files("one.png", "two.png"), "clip_model": "ViT-B-32"})
    assert sorted(Run.objects.get(owner=alice).uploads.values_list("name", flat=True)) == ["one.png", "two.png"]


@pytest.mark.django_db
def test_it_asks_for_files(alice_client):
    response = alice_client.post("/", {"clip_model": "ViT-B-32"})
    assert response.status_code == 400
    assert b"This field is required." in response.content
    assert Run.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_more_files_than_the_limit_on_the_form(alice_client, settings):
    settings.UPLOAD_MAX_FILES = 2
    response = alice_client.post(
        "/", {"files": files("a.png", "b.png", "c.png"), "clip_model": "ViT-B-32"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
    assert b"At most 2 files in one analysis." in response.content
    assert b'id="upload-errors"' in response.content and b"<form" not in response.content
    assert Run.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_an_unknown_model(alice_client):
    response = alice_client.post("/", {"files": files("a.png"), "clip_model": "RN50-huge"})
    assert response.status_code == 400
    assert Run.objects.count() == 0


@pytest.mark.django_db
def test_a_post_needs_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/", {"files": files("a.png"), "clip_model": "ViT-B-32"})
    assert response.status_code == 403
    assert Run.objects.count() == 0


@pytest.mark.django_db
def test_far_too_many_files_get_the_same_clear_message(alice_client, settings):
    settings.UPLOAD_MAX_FILES = 2
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 4
    response = alice_client.post("/", {"files": files(*[f"{n}.png" for n in range(6)]), "clip_model": "ViT-B-32"})
    assert response.status_code == 400
    assert b"At most 2 files in one analysis." in response.content
    assert Run.objects.count() == 0


@pytest.mark.django_db
def test_a_user_may_have_only_so_many_analyses_waiting(alice_client, alice, settings):
    settings.USER_MAX_ACTIVE_RUNS = 2
    Run.objects.create(owner=alice)
    Run.objects.create(owner=alice, status=Run.Status.RUNNING)
    Run.objects.create(owner=alice, status=Run.Status.DONE)
    response = alice_client.post("/", {"files": files("a.png"), "clip_model": "ViT-B-32"})
    assert response.status_code == 400
    assert b"You have 2 analyses waiting or running" in response.content
    assert Run.objects.count() == 3


@pytest.mark.django_db
def test_a_user_may_keep_only_so_many_analyses(alice_client, alice, settings):
    settings.USER_MAX_RUNS = 1
    Run.objects.create(owner=alice, status=Run.Status.DONE)
    response = alice_client.post("/", {"files": files("a.png"), "clip_model": "ViT-B-32"})
    assert b"You keep 1 analyses, the most allowed" in response.content


@pytest.mark.django_db
def test_a_user_may_keep_only_so_many_bytes(alice_client, alice, bob_client, settings):
    settings.USER_QUOTA_BYTES = 40
    alice_client.post("/", {"files": files("a.png"), "clip_model": "ViT-B-32"})  # 15 bytes
    response = alice_client.post("/", {"files": files("b.png", "c.png"), "clip_model": "ViT-B-32"})
    assert response.status_code == 400
    assert b"delete old analyses to make room" in response.content
    assert Run.objects.filter(owner=alice).count() == 1
    # bob's quota is his own
    assert bob_client.post("/", {"files": files("b.png", "c.png"), "clip_model": "ViT-B-32"}).status_code == 302
