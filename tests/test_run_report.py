import io
import re

import pytest
from PIL import ImageFile
from pypdf import PdfReader

from analysis.models import Run


@pytest.mark.django_db
def test_the_report_records_inputs_settings_software_and_each_finding_with_its_evidence(alice_client, finished_run):
    alice_client.post(f"/runs/{finished_run.code}/pairs/1/", {"decision": "confirmed", "comment": "reported"})
    response = alice_client.get(f"/runs/{finished_run.code}/report.html")
    assert response["Content-Disposition"] == f'attachment; filename="deepchecker-report-{finished_run.code}.html"'
    html = response.content.decode()
    for upload in finished_run.uploads.all():
        assert upload.sha256 in html and upload.name in html
    assert "<li><code>verdicts.duplicate_content</code> 0.75</li>" in html
    assert "<li><code>verdicts.keypoints_alone_false_alarms</code> 1e-40</li>" in html
    assert "<li><code>limits.max_image_pixels</code> 100000000</li>" in html
    assert re.search(r"<td>opencv-python-headless</td><td>\d+\.\d+", html)
    assert re.search(
        r'1\. <span class="duplicate">Duplicate</span>, <span class="band-high">100% confidence \(high\)', html
    )
    assert "Confirmed duplicate by alice" in html and "“reported”" in html
    assert re.search(r"Region in the first</dt><dd>x 0–\d+, y 0–\d+ of \d+ × \d+ px", html)
    assert html.count('src="data:image/jpeg;base64,') == finished_run.pairs.exclude(verdict="").count()
    assert "Truncated" not in html and "Traceback" not in html
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
    assert "1.Duplicate,100%confidence(high)" in text
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


@pytest.mark.django_db
def test_page_one_carries_the_summary_and_the_pages_grow_with_the_findings(alice_client, finished_run, alice):
    def pages(run) -> list[str]:
        pdf = PdfReader(io.BytesIO(alice_client.get(f"/runs/{run.code}/report.pdf").content))
        return [re.sub(r"\s+", " ", page.extract_text()) for page in pdf.pages]

    Run.objects.filter(pk=finished_run.pk).update(case="JCB-2026-0412")
    first = pages(finished_run)
    assert "DeepChecker report: JCB-2026-0412" in first[0]
    assert "1 duplicate pair" in first[0] and "1 high confidence" in first[0]
    assert "Findings by confidence" in first[0] and "fig1/blot.png and fig2/blot_turned.png" in first[0]
    assert f"page 1 of {len(first)}" in first[0]
    assert len(first) <= 4, len(first)  # a summary, one finding and the appendix
    finished_run.pairs.update(verdict="duplicate", confidence=0.95)
    more = pages(finished_run)
    findings = finished_run.pairs.count()
    assert len(more) <= len(first) + findings, (len(more), findings)
    assert any(page.lstrip().startswith("Appendix: inputs") for page in more)  # the appendix on pages of its own
