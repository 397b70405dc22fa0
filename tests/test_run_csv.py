import csv
import io

import pytest

from analysis.engine.report import CSV_COLUMNS, spreadsheet_safe
from analysis.models import Run


def rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def records(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.mark.django_db
def test_it_downloads_the_pairs_in_the_command_lines_format(alice_client, finished_run):
    response = alice_client.get(f"/runs/{finished_run.code}/pairs.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="deepchecker-findings-{finished_run.code}.csv"'
    assert rows(response)[0] == [*CSV_COLUMNS, "review", "case"]
    first = records(response)[0]
    assert first["pair"] == "1"
    assert {first["image1"], first["image2"]} == {"fig1/blot.png", "fig2/blot_turned.png"}
    assert (first["kind"], first["panel1"], first["panel2"]) == ("two items", "", "")
    assert first["clip_score"] == ""  # CLIP was unavailable
    assert first["verdict"] == "duplicate"
    assert 0.9 <= float(first["confidence"]) <= 1.0  # the calibrated confidence
    assert first["transform"].startswith("rotated")
    assert len(first["region1"].split()) == 4
    assert (first["review"], first["case"]) == ("", "")


@pytest.mark.django_db
def test_it_carries_the_review_and_the_case(alice_client, finished_run):
    alice_client.post(f"/runs/{finished_run.code}/pairs/1/", {"decision": "confirmed"})
    finished_run.__class__.objects.filter(pk=finished_run.pk).update(case="JCB-2026-0412")
    first = records(alice_client.get(f"/runs/{finished_run.code}/pairs.csv"))[0]
    assert (first["review"], first["case"]) == ("confirmed", "JCB-2026-0412")


@pytest.mark.django_db
def test_names_a_spreadsheet_would_run_are_written_as_text(alice_client, finished_run):
    hostile = ["=2+5+cmd|' /C calc'!A0.png", "@SUM(1+1).png", "+1.png", "-1.png", "\tx.png", "\rx.png"]
    finished_run.items.filter(name="fig1/blot.png").update(name=hostile[0])
    finished_run.items.filter(name="fig2/blot_turned.png").update(name=hostile[1])
    Run.objects.filter(pk=finished_run.pk).update(case='=HYPERLINK("http://evil")')
    every = records(alice_client.get(f"/runs/{finished_run.code}/pairs.csv", {"all": "1"}))
    cells = [value for row in every for value in row.values()]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    first = every[0]
    assert {first["image1"], first["image2"]} == {"'" + hostile[0], "'" + hostile[1]}
    assert first["case"] == '\'=HYPERLINK("http://evil")'
    assert [spreadsheet_safe(name) for name in hostile] == ["'" + name for name in hostile]
    assert spreadsheet_safe("fig1.png") == "fig1.png" and spreadsheet_safe(-1) == -1


@pytest.mark.django_db
def test_it_gives_the_findings_or_every_pair(alice_client, finished_run):
    verdicts = list(finished_run.pairs.values_list("verdict", flat=True))
    assert "" in verdicts  # pairs that are no finding, left out of the first CSV
    findings = records(alice_client.get(f"/runs/{finished_run.code}/pairs.csv"))
    assert [row["verdict"] for row in findings] == [verdict for verdict in verdicts if verdict]
    every = alice_client.get(f"/runs/{finished_run.code}/pairs.csv", {"all": "1"})
    assert len(rows(every)) == finished_run.pairs_verified + 1
    assert every["Content-Disposition"] == f'attachment; filename="deepchecker-all-pairs-{finished_run.code}.csv"'


@pytest.mark.django_db
def test_bob_gets_404(bob_client, finished_run):
    assert bob_client.get(f"/runs/{finished_run.code}/pairs.csv").status_code == 404
