import io
import re

import pytest
from PIL import ImageFile
from pypdf import PdfReader


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


@pytest.mark.django_db
def test_the_pdf_report_holds_the_same_record_with_its_evidence_pictures(alice_client, finished_run):
    response = alice_client.get(f"/runs/{finished_run.code}/report.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="deepchecker-report-{finished_run.code}.pdf"'
    pdf = PdfReader(io.BytesIO(response.content))
    # long names and hashes wrap anywhere in the PDF: compare without white space
    text = re.sub(r"\s", "", "".join(page.extract_text() for page in pdf.pages))
    for upload in finished_run.uploads.all():
        assert upload.name in text and upload.sha256 in text
    assert "verdicts.duplicate_content0.75" in text and "opencv-python-headless" in text
    assert "Pair1:duplicate,confidence100%(high)" in text
    # every page lists the document's shared pictures
    pictures = len({picture.name for page in pdf.pages for picture in page.images})
    assert pictures == finished_run.pairs.exclude(verdict="").count()
    assert alice_client.get(f"/runs/{finished_run.code}/report.pdf").content == response.content


@pytest.mark.django_db
def test_bob_gets_404_for_the_pdf(bob_client, finished_run):
    assert bob_client.get(f"/runs/{finished_run.code}/report.pdf").status_code == 404


@pytest.mark.django_db
def test_making_a_pdf_leaves_truncated_uploads_refused(alice_client, finished_run):
    alice_client.get(f"/runs/{finished_run.code}/report.pdf")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
