"""The lab library on the web: keeping an analysis's pictures, later analyses finding copies of them."""

import io
from datetime import timedelta

import numpy as np
import pytest
from django.contrib.auth.models import Group as UserGroup
from django.test import Client
from django.utils import timezone
from PIL import Image

from analysis.models import Library, LibraryEntry, Run
from analysis.worker import QueueRunner
from tests.conftest import png_upload
from tests.images import scene

BLOT = scene(61, 640, 480)


def analyse(client: Client, pictures: dict[str, np.ndarray], tmp_path, **fields) -> Run:
    """Uploads the pictures through the form and runs the analysis to its end."""
    files = [png_upload(name.rsplit("/", 1)[-1], picture, tmp_path) for name, picture in pictures.items()]
    response = client.post("/", {"files": files, "paths": list(pictures), "clip_model": "ViT-B-32", **fields})
    assert response.status_code == 302, response.content.decode()
    assert QueueRunner("test worker").run_next()
    run = Run.objects.get(code=response.url.split("/")[2])
    assert run.status == Run.Status.DONE, run.error
    return run


def kept_2023(client: Client, library: Library, tmp_path) -> Run:
    earlier = {"2023/blot.png": BLOT, "2023/cells.png": scene(62, 640, 480), "2023/field.png": scene(63, 640, 480)}
    return analyse(client, earlier, tmp_path, library=library.code, keep="on")


def jpeg(response) -> tuple[int, int]:
    """The size of the JPEG picture a view served."""
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as picture:
        assert picture.format == "JPEG"
        return picture.size


def library_pairs(run: Run):
    return [pair for pair in run.pairs.select_related("first", "second") if pair.second.library_origin]


@pytest.fixture
def library(alice) -> Library:
    return Library.usable(alice)[0]


@pytest.fixture
def lab(alice, django_user_model) -> UserGroup:
    """A group of alice and carol, who share its library."""
    lab = UserGroup.objects.create(name="Imaging lab")
    carol = django_user_model.objects.create_user("carol", password="carol's password")
    lab.user_set.add(alice, carol)
    return lab


@pytest.fixture
def carol_client(lab) -> Client:
    client = Client()
    client.force_login(lab.user_set.get(username="carol"))
    return client


@pytest.mark.django_db
def test_the_form_offers_your_library_checked_by_default_and_keeps_nothing_unless_asked(alice_client, library):
    response = alice_client.get("/")
    assert response.context["form"]["library"].value() == str(library.code)
    assert "Your library: 0 pictures" in response.content.decode()
    assert 'name="keep"' in response.content.decode()
    assert b'name="keep" checked' not in response.content


@pytest.mark.django_db
def test_a_run_keeps_its_pictures_when_asked(alice_client, alice, library, tmp_path):
    run = kept_2023(alice_client, library, tmp_path)
    entries = library.entries.order_by("name")
    assert [entry.name for entry in entries] == ["2023/blot.png", "2023/cells.png", "2023/field.png"]
    assert all(entry.run == run and entry.kept_by == alice and entry.uploaded == run.created for entry in entries)
    assert library.indexes().size == 3
    assert {entry.content_hash for entry in entries} == set(
        run.items.filter(skipped="").values_list("content_hash", flat=True)
    )
    assert all(entry.thumbnail.storage.exists(entry.thumbnail.name) for entry in entries)
    assert run.settings["library"] == {"name": "alice's library", "entries": 0, "keep": True}
    assert "keeping" in run.timings


@pytest.mark.django_db
def test_a_run_not_asked_to_keep_keeps_nothing(alice_client, library, tmp_path):
    analyse(alice_client, {"blot.png": BLOT, "other.png": scene(64)}, tmp_path, library=library.code)
    assert library.entries.count() == 0
    assert library.indexes().size == 0


@pytest.mark.django_db
def test_a_later_run_finds_the_copy_of_a_kept_picture_and_says_where_it_came_from(alice_client, library, tmp_path):
    earlier = kept_2023(alice_client, library, tmp_path)
    figure = np.full((600, 1100, 3), 255, np.uint8)
    figure[40:400, 40:520] = scene(65)
    figure[40:280, 640:960] = np.ascontiguousarray(BLOT[::2, ::2][:, ::-1])
    run = analyse(
        alice_client, {"2026/figure.png": figure, "2026/other.png": scene(66)}, tmp_path, library=library.code
    )

    [pair] = library_pairs(run)
    assert (pair.first_name, pair.second_name) == ("2026/figure.png#panel=2", "library:2023/blot.png")
    assert pair.verdict == "duplicate" and "flipped horizontally" in pair.transform
    assert pair.second.library_entry == library.entries.get(name="2023/blot.png")
    assert pair.second.library_origin == f"alice's library, from the analysis of {earlier.created:%Y-%m-%d} by alice"
    assert run.item_count == 2 and run.duplicate_count == 1
    assert [member.name for member in run.groups.get().members.all()] == [
        "2026/figure.png#panel=2",
        "library:2023/blot.png",
    ]

    page = alice_client.get(run.get_absolute_url()).content.decode()
    assert "Kept in alice&#x27;s library, from the analysis of" in page
    assert "Checked against the 3 pictures kept in alice&#x27;s library." in page
    detail = alice_client.get(f"/runs/{run.code}/pairs/{pair.rank}/").content.decode()
    assert "kept in alice&#x27;s library" in detail
    assert max(jpeg(alice_client.get(f"/runs/{run.code}/items/{pair.second.number}/thumbnail.jpg"))) == 256
    csv = alice_client.get(f"/runs/{run.code}/pairs.csv").content.decode()
    assert "library:2023/blot.png" in csv


@pytest.mark.django_db
def test_a_run_checked_against_no_library_finds_nothing_kept(alice_client, library, tmp_path):
    kept_2023(alice_client, library, tmp_path)
    run = analyse(alice_client, {"copy.png": BLOT[::-1], "other.png": scene(66)}, tmp_path, library="")
    assert run.library is None
    assert library_pairs(run) == []
    assert "Library search" not in alice_client.get(run.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_the_kept_pictures_outlive_the_run_they_came_from(alice_client, library, tmp_path):
    earlier = kept_2023(alice_client, library, tmp_path)
    assert alice_client.post(f"/runs/{earlier.code}/delete/").status_code == 302
    assert library.entries.count() == 3
    run = analyse(alice_client, {"copy.png": np.rot90(BLOT), "other.png": scene(66)}, tmp_path, library=library.code)
    [pair] = library_pairs(run)
    assert pair.second_name == "library:2023/blot.png"
    assert jpeg(alice_client.get(f"/runs/{run.code}/items/{pair.second.number}/view.jpg")) == (640, 480)


@pytest.mark.django_db
def test_a_removed_picture_is_not_found_again_but_earlier_findings_keep_their_evidence(alice_client, library, tmp_path):
    kept_2023(alice_client, library, tmp_path)
    before = analyse(alice_client, {"copy.png": BLOT[::-1], "other.png": scene(66)}, tmp_path, library=library.code)
    entry = library.entries.get(name="2023/blot.png")

    response = alice_client.post(f"/library/{library.code}/{entry.key}/remove/")

    assert response.status_code == 302 and response.url == library.get_absolute_url()
    assert not LibraryEntry.objects.filter(pk=entry.pk).exists()
    assert library.indexes().size == 2
    assert not entry.thumbnail.storage.exists(entry.thumbnail.name)
    after = analyse(alice_client, {"copy.png": BLOT[::-1], "other.png": scene(66)}, tmp_path, library=library.code)
    assert library_pairs(after) == []
    [pair] = library_pairs(before)
    assert pair.second.library_entry is None and pair.second.library_origin
    assert jpeg(alice_client.get(f"/runs/{before.code}/items/{pair.second.number}/view.jpg")) == (640, 480)


@pytest.mark.django_db
def test_the_library_page_lists_the_kept_pictures(alice_client, library, tmp_path):
    run = kept_2023(alice_client, library, tmp_path)
    listing = alice_client.get("/library/").content.decode()
    assert "Your library" in listing and library.get_absolute_url() in listing
    page = alice_client.get(library.get_absolute_url()).content.decode()
    assert "3 pictures kept" in page
    assert "2023/cells.png" in page and run.get_absolute_url() in page
    entry = library.entries.first()
    assert max(jpeg(alice_client.get(f"/library/{library.code}/{entry.key}.jpg"))) == 256


@pytest.mark.django_db
def test_bob_gets_404_for_alices_library(alice_client, bob_client, library, tmp_path):
    kept_2023(alice_client, library, tmp_path)
    entry = library.entries.first()
    assert bob_client.get(library.get_absolute_url()).status_code == 404
    assert bob_client.get(f"/library/{library.code}/{entry.key}.jpg").status_code == 404
    assert bob_client.post(f"/library/{library.code}/{entry.key}/remove/").status_code == 404
    assert library.entries.count() == 3


@pytest.mark.django_db
def test_bob_cannot_check_against_or_keep_in_alices_library(bob_client, library, tmp_path):
    upload = png_upload("a.png", BLOT, tmp_path)
    response = bob_client.post("/", {"files": [upload], "library": str(library.code), "keep": "on"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_keeping_needs_a_library(alice_client, tmp_path):
    response = alice_client.post("/", {"files": [png_upload("a.png", BLOT, tmp_path)], "library": "", "keep": "on"})
    assert response.status_code == 400
    assert "Choose the library to keep the pictures in." in response.content.decode()


@pytest.mark.django_db
def test_a_groups_library_is_shared_by_its_members(alice_client, carol_client, lab, tmp_path):
    shared = Library.objects.get_or_create(group=lab)[0]
    kept_2023(alice_client, shared, tmp_path)
    run = analyse(carol_client, {"copy.png": np.rot90(BLOT, 2), "x.png": scene(67)}, tmp_path, library=shared.code)
    [pair] = library_pairs(run)
    assert pair.second.library_origin.startswith("the Imaging lab library, from the analysis of")
    assert pair.second.library_origin.endswith("by alice")
    assert "Imaging lab (shared with the group)" in carol_client.get("/library/").content.decode()

    # carol may use alice's pictures but not remove them; alice may
    entry = shared.entries.get(name="2023/blot.png")
    assert carol_client.post(f"/library/{shared.code}/{entry.key}/remove/").status_code == 403
    assert "Remove" not in carol_client.get(shared.get_absolute_url()).content.decode()
    assert alice_client.post(f"/library/{shared.code}/{entry.key}/remove/").status_code == 302
    assert shared.entries.count() == 2


@pytest.mark.django_db
def test_a_second_attempt_keeps_the_pictures_once_and_does_not_find_them_in_itself(alice, library, tmp_path):
    run = Run.objects.create(owner=alice, library=library, keep=True)
    for name, picture in {"blot.png": BLOT, "cells.png": scene(62)}.items():
        run.uploads.create(name=name, size=1, sha256="0" * 64).file.save(name, png_upload(name, picture, tmp_path))
    assert QueueRunner("first worker").run_next()
    # as if the first worker had died after keeping: its lease runs out and another worker takes the run
    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING, lease_until=timezone.now() - timedelta(seconds=1))

    assert QueueRunner("second worker").run_next()

    run.refresh_from_db()
    assert (run.status, run.attempts) == (Run.Status.DONE, 2)
    assert library.entries.count() == 2 and library.indexes().size == 2
    assert library_pairs(run) == []


@pytest.mark.django_db
def test_the_report_names_the_library_it_was_checked_against(alice_client, library, tmp_path):
    run = kept_2023(alice_client, library, tmp_path)
    report = alice_client.get(f"/runs/{run.code}/report.html").content.decode()
    assert "library.name" in report and "alice&#x27;s library" in report
    assert "library.keep" in report


@pytest.mark.django_db
def test_staff_see_libraries_and_their_pictures_in_the_admin(alice_client, library, tmp_path, admin_client):
    kept_2023(alice_client, library, tmp_path)
    listing = admin_client.get("/admin/analysis/library/").content.decode()
    assert "alice&#x27;s library" in listing
    entries = admin_client.get("/admin/analysis/libraryentry/").content.decode()
    assert "2023/field.png" in entries
