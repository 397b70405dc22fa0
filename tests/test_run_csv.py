import csv
import io

import pytest

from analysis.engine.report import CSV_COLUMNS


def rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.django_db
def test_it_downloads_the_pairs_in_the_command_lines_format(alice_client, finished_run):
    response = alice_client.get(f"/runs/{finished_run.code}/pairs.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="deepchecker-findings-{finished_run.code}.csv"'
    header, first, *_ = rows(response)
    assert header == CSV_COLUMNS
    assert first[0] == "1"
    assert {first[1], first[2]} == {"fig1/blot.png", "fig2/blot_turned.png"}
    assert first[3] == ""  # no CLIP score: CLIP was unavailable
    assert first[5] == "duplicate"
    assert 0.9 <= float(first[6]) <= 1.0  # the calibrated confidence
    assert first[7].startswith("rotated")
    assert len(first[9].split()) == 4


@pytest.mark.django_db
def test_it_gives_the_findings_or_every_pair(alice_client, finished_run):
    verdicts = list(finished_run.pairs.values_list("verdict", flat=True))
    assert "" in verdicts  # pairs that are no finding, left out of the first CSV
    findings = rows(alice_client.get(f"/runs/{finished_run.code}/pairs.csv"))[1:]
    assert [row[5] for row in findings] == [verdict for verdict in verdicts if verdict]
    every = alice_client.get(f"/runs/{finished_run.code}/pairs.csv", {"all": "1"})
    assert len(rows(every)) == finished_run.pairs_verified + 1
    assert every["Content-Disposition"] == f'attachment; filename="deepchecker-all-pairs-{finished_run.code}.csv"'


@pytest.mark.django_db
def test_bob_gets_404(bob_client, finished_run):
    assert bob_client.get(f"/runs/{finished_run.code}/pairs.csv").status_code == 404
