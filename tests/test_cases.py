"""An analysis named and filed under a manuscript or case ID: given at upload or through the API (see test_api),
and used by the history, the run page, the report, the downloads' file names and the admin's search."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from analysis.models import Run

CASE = {"name": "Smith et al., figures 1-4", "case": "JCB-2026/0412"}


def files() -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile("a.png", b"one"), SimpleUploadedFile("b.png", b"two")]


@pytest.fixture
def named_run(finished_run) -> Run:
    Run.objects.filter(pk=finished_run.pk).update(**CASE)
    finished_run.refresh_from_db()
    return finished_run


@pytest.mark.django_db
def test_the_upload_form_files_the_analysis_under_its_case(alice_client, alice):
    page = alice_client.get("/").content.decode()
    assert 'name="case"' in page and "Manuscript or case ID" in page
    alice_client.post("/", {"files": files(), **CASE})
    run = Run.objects.get(owner=alice)
    assert (run.name, run.case) == (CASE["name"], CASE["case"])


@pytest.mark.django_db
def test_too_long_a_case_id_is_refused_with_its_reason(alice_client, alice):
    response = alice_client.post("/", {"files": files(), "case": "x" * 101})
    assert response.status_code == 400
    assert "at most 100 characters" in response.content.decode()
    assert not Run.objects.filter(owner=alice).exists()


@pytest.mark.django_db
def test_the_history_shows_the_case_and_finds_runs_by_it(alice_client, named_run, alice):
    other = Run.objects.create(owner=alice, status=Run.Status.DONE, case="NAT-2025-1")
    html = alice_client.get("/runs/").content.decode()
    assert "Smith et al., figures 1-4</a> · JCB-2026/0412" in html
    found = alice_client.get("/runs/", {"q": "jcb-2026"})
    assert list(found.context["runs"]) == [named_run]
    assert list(alice_client.get("/runs/", {"q": "blot_turned"}).context["runs"]) == [named_run]
    assert list(alice_client.get("/runs/", {"q": "NAT-"}).context["runs"]) == [other]
    assert "No analysis matches “PLOS”" in alice_client.get("/runs/", {"q": "PLOS"}).content.decode()


@pytest.mark.django_db
def test_the_run_page_report_and_downloads_carry_the_case(alice_client, named_run):
    page = alice_client.get(f"/runs/{named_run.code}/").content.decode()
    assert "<title>Smith et al., figures 1-4 · JCB-2026/0412 · DeepChecker</title>" in page
    assert "<h1>Smith et al., figures 1-4</h1>" in page and "<strong>JCB-2026/0412</strong>" in page
    report = alice_client.get(f"/runs/{named_run.code}/report.html")
    assert "Manuscript or case <strong>JCB-2026/0412</strong>" in report.content.decode()
    assert (
        report["Content-Disposition"] == f'attachment; filename="deepchecker-jcb-20260412-report-{named_run.code}.html"'
    )
    csv = alice_client.get(f"/runs/{named_run.code}/pairs.csv")
    assert (
        csv["Content-Disposition"] == f'attachment; filename="deepchecker-jcb-20260412-findings-{named_run.code}.csv"'
    )


@pytest.mark.django_db
def test_staff_find_a_run_by_its_case_in_the_admin(admin_client, named_run, alice):
    Run.objects.create(owner=alice, case="NAT-2025-1")
    listing = admin_client.get("/admin/analysis/run/", {"q": "JCB-2026"}).content.decode()
    assert listing.count(f'href="/runs/{named_run.code}/"') == 1
    assert "NAT-2025-1" not in listing
