"""Figure maps: a PDF page or a multi-panel figure drawn with a numbered box, coloured by confidence band and
leading to its finding, around every region that is found elsewhere."""

import re

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from analysis.figure_maps import figure_maps
from analysis.models import Run, Upload
from analysis.worker import QueueRunner
from tests.conftest import png_upload
from tests.images import pdf_with_images, scene


@pytest.fixture
def mapped_run(alice, tmp_path) -> Run:
    """A PDF whose first page shows a picture, a copy of it turned, and a two-panel figure whose right panel is a
    copy of another picture."""
    run = Run.objects.create(owner=alice)
    blot, cells = scene(61, 640, 480), scene(62, 400, 300)
    figure = np.full((400, 940, 3), 255, np.uint8)
    figure[40:340, 40:440] = scene(63, 400, 300)
    figure[40:340, 500:900] = cells
    pdf = pdf_with_images(tmp_path / "paper.pdf", [blot, scene(64)])
    files = {"fig2.png": np.rot90(blot), "figure3.png": figure, "cells.png": cells[::-1]}
    for name, picture in files.items():
        Upload.store(run, png_upload(name, picture, tmp_path), name)
    Upload.store(run, open_upload(pdf), "paper.pdf")
    assert QueueRunner("test worker").run_next()
    run.refresh_from_db()
    return run


def open_upload(path):
    return SimpleUploadedFile(path.name, path.read_bytes())


@pytest.mark.django_db
def test_each_page_and_figure_with_a_finding_gets_a_map(mapped_run):
    maps = {figure.item.name: figure for figure in figure_maps(mapped_run)}
    assert set(maps) == {"paper.pdf#page=1", "figure3.png"}
    (page_box,) = maps["paper.pdf#page=1"].boxes
    assert [other for _, other in page_box.findings] == ["fig2.png"] and page_box.pair.verdict == "duplicate"
    # the embedded picture is drawn 432 pt wide at 90 pt from the left and the top of a 612 x 792 pt page
    assert page_box.box == pytest.approx((90 / 612, 90 / 792, 522 / 612, 414 / 792), abs=0.02)
    (figure_box,) = maps["figure3.png"].boxes
    assert [other for _, other in figure_box.findings] == ["cells.png"]
    assert figure_box.box == pytest.approx((500 / 940, 40 / 400, 900 / 940, 340 / 400), abs=0.03)


@pytest.mark.django_db
def test_the_run_page_draws_the_maps_with_numbered_boxes_leading_to_the_findings(alice_client, mapped_run):
    html = alice_client.get(f"/runs/{mapped_run.code}/").content.decode()
    assert html.count('<figure class="figure-map">') == 2
    page = mapped_run.items.get(name="paper.pdf#page=1")
    assert f'<image href="/runs/{mapped_run.code}/items/{page.number}/view.jpg"' in html
    pair = next(
        box.pair
        for figure in figure_maps(mapped_run)
        for box in figure.boxes
        if box.pair.first.name == "fig2.png" or box.pair.second.name == "fig2.png"
    )
    link = re.search(rf'<a href="/runs/{mapped_run.code}/pairs/{pair.rank}/" aria-label="Finding {pair.rank}: ', html)
    assert link, html
    assert 'class="map-box band-high"' in html
    assert "paper.pdf#page=1: page 1: 1 region found elsewhere" in html


@pytest.mark.django_db
def test_one_region_found_several_times_is_one_box_with_each_finding_numbered(alice, alice_client, tmp_path):
    run = Run.objects.create(owner=alice)
    blot = scene(65, 640, 480)
    Upload.store(run, open_upload(pdf_with_images(tmp_path / "paper.pdf", [blot])), "paper.pdf")
    for name, picture in (("turned.png", np.rot90(blot)), ("mirrored.png", blot[:, ::-1])):
        Upload.store(run, png_upload(name, picture, tmp_path), name)
    assert QueueRunner("test worker").run_next()
    (page,) = figure_maps(run)
    (region,) = page.boxes
    assert sorted(other for _, other in region.findings) == ["mirrored.png", "turned.png"]
    assert [pair.rank for pair, _ in region.findings] == sorted(pair.rank for pair, _ in region.findings)
    html = alice_client.get(f"/runs/{run.code}/").content.decode()
    assert html.count('class="map-box') == 1
    for pair, _ in region.findings:
        assert f'<a href="/runs/{run.code}/pairs/{pair.rank}/" aria-label="Finding {pair.rank}: ' in html
