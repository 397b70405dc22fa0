"""The JSON API with bearer keys: submit a run, follow it, fetch its pairs and CSV."""

import csv
import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from analysis.engine.report import CSV_COLUMNS
from analysis.models import ApiToken, Library, Run
from analysis.wakeups import ANALYSIS_CHANNEL
from analysis.worker import QueueRunner
from tests.conftest import png_upload
from tests.images import scene
from tests.layers import received


def api(key: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {key}"})


@pytest.fixture
def alice_api(alice) -> Client:
    return api(ApiToken.issue(alice, "editorial system")[1])


@pytest.fixture
def bob_api(bob) -> Client:
    return api(ApiToken.issue(bob, "bob's script")[1])


@pytest.mark.django_db
@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Basic YWxpY2U6eA=="])
def test_without_a_valid_key_it_answers_401(client, alice_client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/runs/", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "an API key is needed: Authorization: Bearer <key>"}
    assert alice_client.get("/api/runs/").status_code == 401  # a signed-in browser session is not a key


@pytest.mark.django_db(transaction=True)
def test_a_program_submits_a_run_without_csrf(alice, alice_api, tmp_path):
    files = [png_upload("a.png", scene(1, 64, 48), tmp_path), png_upload("b.png", scene(2, 64, 48), tmp_path)]
    response = alice_api.post("/api/runs/", {"files": files, "paths": ["fig/a.png", "fig/b.png"]})
    assert response.status_code == 201
    body = response.json()
    run = Run.objects.get(owner=alice)
    assert (body["code"], body["status"]) == (str(run.code), "queued")
    assert body["links"]["self"] == f"http://testserver/api/runs/{run.code}/"
    assert sorted(run.uploads.values_list("name", flat=True)) == ["fig/a.png", "fig/b.png"]
    assert received(ANALYSIS_CHANNEL) == [{"type": "run.queued", "run": run.pk}]


@pytest.mark.django_db
def test_a_program_gives_the_case_and_reads_it_back(alice, alice_api, tmp_path):
    body = alice_api.post(
        "/api/runs/",
        {"files": [png_upload("a.png", scene(1, 64, 48), tmp_path)], "name": "Smith et al.", "case": "JCB-2026/0412"},
    ).json()
    assert (body["name"], body["case"]) == ("Smith et al.", "JCB-2026/0412")
    assert Run.objects.get(owner=alice).case == "JCB-2026/0412"


@pytest.mark.django_db
def test_a_refused_submission_says_why(alice_api, settings, tmp_path):
    settings.UPLOAD_MAX_FILES = 1
    files = [png_upload("a.png", scene(1, 64, 48), tmp_path), png_upload("b.png", scene(2, 64, 48), tmp_path)]
    response = alice_api.post("/api/runs/", {"files": files})
    assert response.status_code == 400
    assert response.json()["errors"]["files"][0]["message"] == "At most 1 files in one analysis."
    assert Run.objects.count() == 0


@pytest.mark.django_db
def test_it_reports_a_finished_run_with_its_groups_and_skipped_files(alice_api, finished_run):
    body = alice_api.get(f"/api/runs/{finished_run.code}/").json()
    assert (body["status"], body["items"], body["duplicates"], body["groups"]) == ("done", 3, 1, 1)
    assert sorted(body["duplicate_groups"][0]) == ["fig1/blot.png", "fig2/blot_turned.png"]
    assert body["skipped_files"][0]["name"] == "notes.jpg"
    assert "semantic ranking unavailable" in body["clip_notice"]


@pytest.mark.django_db
def test_it_lists_the_pairs_as_json_and_as_csv(alice_api, alice_client, finished_run):
    alice_client.post(f"/runs/{finished_run.code}/pairs/1/", {"decision": "confirmed"})
    pairs = alice_api.get(f"/api/runs/{finished_run.code}/pairs/").json()["pairs"]
    assert len(pairs) == finished_run.pairs_verified
    best = pairs[0]
    assert {best["image1"], best["image2"]} == {"fig1/blot.png", "fig2/blot_turned.png"}
    assert (best["verdict"], best["review"], best["confidence_band"]) == ("duplicate", "confirmed", "high")
    assert best["transform"].startswith("rotated")
    duplicates = alice_api.get(f"/api/runs/{finished_run.code}/pairs/", {"verdict": "duplicate"}).json()["pairs"]
    assert [pair["rank"] for pair in duplicates] == [1]
    rows = list(csv.reader(io.StringIO(alice_api.get(f"/api/runs/{finished_run.code}/pairs.csv").content.decode())))
    assert rows[0] == [*CSV_COLUMNS, "review", "case"]
    assert dict(zip(rows[0], rows[1], strict=True))["verdict"] == "duplicate"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["", "pairs/", "pairs.csv"])
def test_bobs_key_gets_404_on_alices_run(bob_api, finished_run, path):
    assert bob_api.get(f"/api/runs/{finished_run.code}/{path}").status_code == 404


@pytest.mark.django_db
def test_a_user_makes_a_key_sees_it_once_and_revokes_it(alice_client, alice):
    response = alice_client.post("/accounts/api-keys/", {"name": "editorial system"})
    key = response.context["key"]
    assert key.startswith("dc_") and key.encode() in response.content
    token = ApiToken.objects.get(owner=alice)
    assert token.digest != key and key not in token.digest  # only its hash is kept
    assert key.encode() not in alice_client.get("/accounts/api-keys/").content
    assert api(key).get("/api/runs/").status_code == 200
    alice_client.post(f"/accounts/api-keys/{token.pk}/revoke/")
    assert api(key).get("/api/runs/").status_code == 401


@pytest.mark.django_db
def test_bob_cannot_revoke_alices_key(bob_client, alice):
    token, _ = ApiToken.issue(alice, "editorial system")
    assert bob_client.post(f"/accounts/api-keys/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()


@pytest.mark.django_db
def test_a_program_lists_its_libraries_and_submits_a_run_that_keeps_its_pictures(alice, alice_api, tmp_path):
    listed = alice_api.get("/api/libraries/").json()["libraries"]
    assert [(entry["name"], entry["pictures"]) for entry in listed] == [("Your library", 0)]
    code = listed[0]["code"]
    upload = png_upload("blot.png", scene(71, 640, 480), tmp_path)
    response = alice_api.post("/api/runs/", {"files": [upload], "library": code, "keep": "true"})
    assert response.status_code == 201
    assert (response.json()["library"], response.json()["kept_in_library"]) == (code, True)
    assert QueueRunner("test worker").run_next()
    assert alice_api.get("/api/libraries/").json()["libraries"][0]["pictures"] == 1

    copy = png_upload("copy.png", np.rot90(scene(71, 640, 480)), tmp_path)
    run = alice_api.post("/api/runs/", {"files": [copy], "library": code}).json()
    assert QueueRunner("test worker").run_next()
    [pair] = alice_api.get(f"/api/runs/{run['code']}/pairs/").json()["pairs"]
    assert (pair["image1"], pair["image2"], pair["verdict"]) == ("copy.png", "library:blot.png", "duplicate")
    assert pair["image2_kept_in"].startswith("alice's library, from the analysis of")


@pytest.mark.django_db
def test_a_program_cannot_use_another_users_library(alice, bob_api, tmp_path):
    code = str(Library.usable(alice)[0].code)
    response = bob_api.post("/api/runs/", {"files": [png_upload("a.png", scene(1, 64, 48), tmp_path)], "library": code})
    assert response.status_code == 400
    assert response.json()["errors"]["library"][0]["code"] == "invalid_choice"


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_errors_are_json_with_a_message_also_when_debug_is_on(alice_api, finished_run, settings, debug):
    settings.DEBUG = debug
    missing = alice_api.get("/api/runs/00000000-0000-0000-0000-000000000000/")
    assert (missing.status_code, missing["Content-Type"]) == (404, "application/json")
    assert missing.json() == {"error": "not found: there is no such resource, or it is not yours"}
    assert alice_api.get("/api/nothing-here/").json()["error"].startswith("not found")
    wrong = alice_api.delete(f"/api/runs/{finished_run.code}/")
    assert (wrong.status_code, wrong.json()) == (405, {"error": "method not allowed here; allowed: GET"})
    assert wrong["Allow"] == "GET"
    assert Client().get("/api/runs/").json()["error"].startswith("an API key is needed")


@pytest.mark.django_db
def test_no_library_is_asked_for_by_name(alice, alice_api, tmp_path):
    response = alice_api.post(
        "/api/runs/", {"files": [png_upload("a.png", scene(1, 64, 48), tmp_path)], "library": "none"}
    )
    assert response.status_code == 201, response.json()
    assert Run.objects.get(owner=alice).library is None


@pytest.mark.django_db
def test_files_that_are_neither_images_nor_pdfs_are_refused_at_submission_by_name(alice, alice_api, tmp_path):
    picture = png_upload("fig.png", scene(5, 64, 48), tmp_path)
    files = [
        picture,
        SimpleUploadedFile("paper.pdf", b"%PDF-1.7\n..."),
        SimpleUploadedFile("notes.jpg", b"these are notes, not a picture"),
        SimpleUploadedFile("data.csv", b"a,b\n1,2\n"),
        SimpleUploadedFile("broken.jpg", b"\xff\xd8\xff\xe0 truncated"),  # a damaged JPEG is still one
    ]
    paths = ["fig.png", "paper.pdf", "supplement/notes.jpg", "data.csv", "broken.jpg"]
    response = alice_api.post("/api/runs/", {"files": files, "paths": paths})
    assert response.status_code == 400
    message = response.json()["errors"]["files"][0]
    assert message == {
        "message": "Neither an image nor a PDF: supplement/notes.jpg, data.csv. "
        "Send JPEG, PNG, TIFF, BMP, WebP, GIF or PDF files.",
        "code": "unsupported",
    }
    assert not Run.objects.filter(owner=alice).exists()


@pytest.mark.django_db
def test_the_api_is_documented_in_the_app_and_linked_from_the_keys_page(alice_client):
    keys = alice_client.get("/accounts/api-keys/").content.decode()
    assert 'href="/help/api/">how to use the API</a>' in keys
    made = alice_client.post("/accounts/api-keys/", {"name": "script"}).content.decode()
    assert '<button type="button" data-copy="#new-key" aria-describedby="copy-status" hidden>Copy key</button>' in made
    docs = alice_client.get("/help/api/").content.decode()
    for endpoint in ("POST http://testserver/api/runs/", "GET http://testserver/api/runs/&lt;code&gt;/pairs/"):
        assert endpoint in docs
    assert "<code>none</code>" in docs and "<code>case</code>" in docs
