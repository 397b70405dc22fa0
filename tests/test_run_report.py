import re

import pytest


@pytest.mark.django_db
def test_the_report_records_inputs_settings_software_and_each_finding_with_its_evidence(alice_client, finished_run):
    alice_client.post(f"/runs/{finished_run.code}/pairs/1/", {"decision": "confirmed", "comment": "reported"})
    response = alice_client.get(f"/runs/{finished_run.code}/report.html")
    assert response["Content-Disposition"] == f'attachment; filename="deepchecker-report-{finished_run.code}.html"'
    html = response.content.decode()
    for upload in finished_run.uploads.all():
        assert upload.sha256 in html and upload.name in html
    assert "<code>verdicts.duplicate_content</code></td><td>0.75</td>" in html
    assert "<code>limits.max_image_pixels</code></td><td>100000000</td>" in html
    assert re.search(r"<td>opencv-python-headless</td><td>\d+\.\d+", html)
    assert 'Pair 1: <span class="duplicate">duplicate</span>, confidence 100% (high)' in html
    assert "Reviewed: Confirmed duplicate by alice" in html and "reported" in html
    assert html.count('src="data:image/jpeg;base64,') == finished_run.pairs.exclude(verdict="").count()
    assert 'src="/' not in html and 'href="/' not in html  # self-contained: nothing to fetch


@pytest.mark.django_db
def test_the_same_run_gives_the_same_report(alice_client, finished_run):
    first = alice_client.get(f"/runs/{finished_run.code}/report.html").content
    assert alice_client.get(f"/runs/{finished_run.code}/report.html").content == first


@pytest.mark.django_db
def test_bob_gets_404(bob_client, finished_run):
    assert bob_client.get(f"/runs/{finished_run.code}/report.html").status_code == 404
