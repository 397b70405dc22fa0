from datetime import timedelta

import pytest
from django.utils import timezone

from analysis.models import Library, Run
from tests.jobs import take


def url(run: Run) -> str:
    return f"/runs/{run.code}/"


@pytest.mark.django_db
def test_it_shows_a_waiting_run_with_its_live_connection(alice_client, queued_run):
    response = alice_client.get(url(queued_run))
    assert response.status_code == 200
    assert f'ws-connect="/ws/runs/{queued_run.code}/"'.encode() in response.content
    assert b"Cancel analysis" in response.content
    assert b'<progress id="stage-reading" max="1" value="0">' in response.content


@pytest.mark.django_db
def test_it_shows_the_progress_stored_by_the_worker(alice_client, queued_run):
    take(queued_run).set_stage("verifying", 30, 120)
    response = alice_client.get(url(queued_run))
    assert b'<progress id="stage-verifying" max="120" value="30">' in response.content
    assert b'<progress id="stage-reading" max="1" value="1">' in response.content
    assert b'<progress id="stage-grouping" max="1" value="0">' in response.content


@pytest.mark.django_db
def test_it_shows_the_results_of_a_finished_run(alice_client, finished_run):
    response = alice_client.get(url(finished_run))
    html = response.content.decode()
    assert "ws-connect" not in html
    assert "Cancel analysis" not in html
    assert "fig1/blot.png" in html and "fig2/blot_turned.png" in html
    assert "Duplicate</span>" in html
    assert "confidence 100% (high)" in html
    assert "rotated" in html
    assert "Group 1 · 2 pictures" in html
    assert "<strong>notes.jpg</strong>: not a readable image" in html
    assert "Semantic ranking unavailable" in html
    assert f"/runs/{finished_run.code}/pairs.csv?all=1" in html
    assert f"/runs/{finished_run.code}/items/0/thumbnail.jpg" in html


@pytest.mark.django_db
def test_it_shows_ten_duplicates_then_more_on_request(alice_client, finished_run, monkeypatch):
    finished_run.pairs.update(verdict="duplicate")
    monkeypatch.setattr("analysis.fragments.TOP_PAIRS", 1)
    monkeypatch.setattr("analysis.views.TOP_PAIRS", 1)
    first = alice_client.get(url(finished_run))
    assert first.content.count(b'class="pair verdict') == 1
    assert f"Show the top {finished_run.pairs_verified} duplicates".encode() in first.content
    more = alice_client.get(url(finished_run), {"top": "50"}, headers={"HX-Request": "true"})
    assert more.content.count(b'class="pair verdict') == finished_run.pairs_verified
    assert more.content.lstrip().startswith(b'<section id="run-results"')  # the fragment alone


@pytest.mark.django_db
def test_it_lists_findings_only_duplicates_first_and_similar_pairs_behind_their_count(alice_client, finished_run):
    assert list(finished_run.pairs.values_list("verdict", flat=True)) == ["duplicate", "", ""]
    finished_run.pairs.filter(rank=2).update(verdict="similar")
    html = alice_client.get(url(finished_run)).content.decode()
    assert html.count('class="pair verdict-duplicate"') == 1
    assert "verdict-none" not in html and "Not confirmed" not in html and "Evidence for pair 3" not in html
    similar = html.index('<details class="similar">')
    assert html.index('class="pair verdict-duplicate"') < similar < html.index('class="pair verdict-similar"')
    assert "<summary>1 similar pair: partial matches short of a duplicate</summary>" in html
    assert "Download CSV (2 findings)" in html and "Download CSV (all 3 pairs)" in html


@pytest.mark.django_db
def test_a_run_without_duplicates_says_so_plainly(alice_client, finished_run):
    finished_run.pairs.update(verdict="")
    finished_run.groups.all().delete()
    Run.objects.filter(pk=finished_run.pk).update(duplicate_count=0, group_count=0)
    html = alice_client.get(url(finished_run)).content.decode()
    assert (
        "<strong>No duplicates found.</strong> 4 files, 1 skipped: 3 items compared. None of them is a copy of another"
        in html
    )
    assert 'class="pair' not in html and "Findings</h2>" not in html and "Duplicate groups" not in html
    assert "Download CSV (all 3 pairs)" in html and "finding" not in html.split("downloads", 1)[1][:300]


@pytest.mark.django_db
def test_bob_gets_404(bob_client, finished_run):
    assert bob_client.get(url(finished_run)).status_code == 404


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in(client, finished_run):
    response = client.get(url(finished_run))
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.django_db
def test_staff_review_any_run_from_the_admin(admin_client, finished_run):
    listing = admin_client.get("/admin/analysis/run/")
    assert f'href="/runs/{finished_run.code}/"'.encode() in listing.content
    response = admin_client.get(url(finished_run))
    assert response.status_code == 200
    assert b"fig2/blot_turned.png" in response.content


@pytest.mark.django_db
def test_it_says_when_the_worker_was_lost(alice_client, queued_run):
    take(queued_run)
    Run.objects.filter(pk=queued_run.pk).update(lease_until=timezone.now() - timedelta(seconds=5))
    response = alice_client.get(url(queued_run))
    assert b"its worker stopped answering" in response.content


@pytest.mark.django_db
def test_it_explains_how_files_became_items(alice_client, finished_run):
    pdf = finished_run.uploads.create(name="paper.pdf", size=1, sha256="0" * 64, file="x")
    for page in (1, 2):
        finished_run.items.create(name=f"paper.pdf#page={page}", upload=pdf, kind="pdf_page", page=page)
    Run.objects.filter(pk=finished_run.pk).update(item_count=5)
    html = alice_client.get(url(finished_run)).content.decode()
    assert "5 files, 1 skipped; paper.pdf gave 2 items (pages, embedded images): 5 items compared" in html


@pytest.mark.django_db
def test_an_empty_library_is_not_claimed_as_a_check(alice_client, finished_run, alice):
    library = Library.usable(alice)[0]
    Run.objects.filter(pk=finished_run.pk).update(library=library, settings={"library": {"entries": 0}})
    html = alice_client.get(url(finished_run)).content.decode()
    assert "Checked against" not in html and "Alice&#x27;s library held no pictures yet, so nothing was checked" in html
    Run.objects.filter(pk=finished_run.pk).update(settings={"library": {"entries": 12}})
    html = alice_client.get(url(finished_run)).content.decode()
    assert "Checked against the 12 pictures kept in alice&#x27;s library." in html
