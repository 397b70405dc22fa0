"""Reviewers' verdicts on pairs: kept with their history, remembered for the same images, filterable."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from analysis.models import Review, Run, Upload
from analysis.worker import QueueRunner


def review_url(run: Run, rank: int = 1) -> str:
    return f"/runs/{run.code}/pairs/{rank}/"


def again(run: Run, owner=None) -> Run:
    """A later run on the same files, of the same owner unless another is given, analysed."""
    later = Run.objects.create(owner=owner or run.owner)
    for upload in run.uploads.all():
        with upload.file.open("rb") as stored:
            Upload.store(later, SimpleUploadedFile(upload.name.rsplit("/", 1)[-1], stored.read()), upload.name)
    assert QueueRunner("test worker").run_next()
    later.refresh_from_db()
    return later


@pytest.mark.django_db
def test_the_owner_records_a_verdict_and_its_history_is_kept(alice_client, alice, finished_run):
    alice_client.post(review_url(finished_run), {"decision": "confirmed", "comment": "same blot, turned"})
    response = alice_client.post(review_url(finished_run), {"decision": "legitimate", "comment": "cited as reused"})
    assert response.status_code == 302
    pair = finished_run.pairs.get(rank=1)
    assert [(r.decision, r.comment, r.author) for r in pair.reviews.all()] == [
        ("legitimate", "cited as reused", alice),
        ("confirmed", "same blot, turned", alice),
    ]
    page = alice_client.get(review_url(finished_run)).content.decode()
    assert "<strong>Legitimate reuse</strong>" in page
    assert "Confirmed duplicate: same blot, turned" in page  # in the history


@pytest.mark.django_db
def test_a_verdict_needs_a_decision(alice_client, finished_run):
    response = alice_client.post(review_url(finished_run), {"decision": "maybe"})
    assert response.status_code == 400
    assert not Review.objects.exists()


@pytest.mark.django_db
def test_bob_can_neither_see_nor_review(bob_client, finished_run):
    assert bob_client.post(review_url(finished_run), {"decision": "false_positive"}).status_code == 404
    assert not Review.objects.exists()


@pytest.mark.django_db
def test_staff_may_review_any_run(admin_client, admin_user, finished_run):
    admin_client.post(review_url(finished_run), {"decision": "confirmed"})
    (review,) = Review.objects.all()
    assert (review.author, review.owner) == (admin_user, finished_run.owner)


@pytest.mark.django_db
def test_the_same_two_images_in_a_later_run_come_back_with_the_verdict(alice_client, bob, finished_run):
    alice_client.post(review_url(finished_run), {"decision": "false_positive", "comment": "two exposures"})
    later = again(finished_run)
    pair = later.pairs.get(rank=1)
    assert {pair.first.name, pair.second.name} == {"fig1/blot.png", "fig2/blot_turned.png"}
    page = alice_client.get(review_url(later)).content.decode()
    assert "<strong>False positive</strong>" in page
    assert f'on the same two images in <a href="/runs/{finished_run.code}/"' in page
    assert "Reviewed: False positive (your verdict on the same images in an earlier analysis)" in (
        alice_client.get(f"/runs/{later.code}/").content.decode()
    )


@pytest.mark.django_db
def test_verdicts_are_remembered_only_for_their_owner(alice_client, bob, finished_run):
    alice_client.post(review_url(finished_run), {"decision": "confirmed"})
    pair = again(finished_run, owner=bob).pairs.get(rank=1)
    assert {pair.first.name, pair.second.name} == {"fig1/blot.png", "fig2/blot_turned.png"}
    assert Review.latest_for([pair], bob) == {}


@pytest.mark.django_db
def test_the_results_filter_by_verdict_and_hide_dismissed_pairs(alice_client, finished_run):
    finished_run.pairs.update(verdict="duplicate")  # only findings are listed and reviewed
    alice_client.post(review_url(finished_run, 1), {"decision": "false_positive"})
    alice_client.post(review_url(finished_run, 2), {"decision": "confirmed"})
    url = f"/runs/{finished_run.code}/"

    def ranks(**query) -> list[str]:
        html = alice_client.get(url, query, headers={"HX-Request": "true"}).content.decode()
        return [part.split("/", 1)[0] for part in html.split(f"/runs/{finished_run.code}/pairs/")[1:]][::2]

    everything = ranks()
    assert everything[:2] == ["1", "2"]
    assert ranks(review="confirmed") == ["2"]
    assert ranks(review="false_positive") == ["1"]
    assert "1" not in ranks(hide_dismissed="1") and "2" in ranks(hide_dismissed="1")
    assert set(ranks(review="unreviewed")) == set(everything) - {"1", "2"}


@pytest.mark.django_db
def test_staff_see_every_verdict_in_the_admin_and_cannot_change_them(admin_client, alice_client, finished_run):
    alice_client.post(review_url(finished_run), {"decision": "confirmed", "comment": "reported"})
    review = Review.objects.get()
    listing = admin_client.get("/admin/analysis/review/")
    assert b"reported" in listing.content and b"Confirmed duplicate" in listing.content
    assert admin_client.get(f"/admin/analysis/review/{review.pk}/change/").status_code == 200  # to read
    assert admin_client.post(f"/admin/analysis/review/{review.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Review.objects.filter(pk=review.pk).exists()


@pytest.mark.django_db
def test_a_comment_is_bounded(alice_client, finished_run):
    response = alice_client.post(review_url(finished_run), {"decision": "confirmed", "comment": "x" * 2_000_000})
    assert response.status_code == 400
    assert "Ensure this value has at most 4000 characters" in response.content.decode()
    assert not Review.objects.exists()
