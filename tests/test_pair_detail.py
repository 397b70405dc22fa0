import io
import re

import numpy as np
import pytest
from PIL import Image

from analysis.models import Run, Upload
from analysis.worker import QueueRunner
from tests.conftest import png_upload
from tests.images import scene


@pytest.mark.django_db
def test_it_draws_both_items_with_the_matched_regions_and_the_inliers(alice_client, finished_run):
    pair = finished_run.pairs.get(rank=1)
    response = alice_client.get(f"/runs/{finished_run.code}/pairs/1/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Pair 1: duplicate" in html
    assert pair.transform in html
    assert html.count("<image ") == 2
    assert f"/runs/{finished_run.code}/items/{pair.first.number}/view.jpg" in html
    assert html.count('<rect class="region"') == 2
    # every inlier, or an even sample of at most 150 of them
    assert min(pair.local_matches, 75) <= len(re.findall("<line ", html)) <= 150
    assert f"/runs/{finished_run.code}/items/{pair.second.number}/original" in html


@pytest.mark.django_db
def test_a_pair_that_does_not_exist_is_404(alice_client, finished_run):
    assert alice_client.get(f"/runs/{finished_run.code}/pairs/999/").status_code == 404


@pytest.mark.django_db
def test_bob_gets_404(bob_client, finished_run):
    assert bob_client.get(f"/runs/{finished_run.code}/pairs/1/").status_code == 404


@pytest.mark.django_db
def test_it_lays_the_second_image_onto_the_first(alice_client, finished_run):
    pair = finished_run.pairs.get(rank=1)
    response = alice_client.get(f"/runs/{finished_run.code}/pairs/1/overlay.jpg")
    assert response["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(response.content)) as overlay, Image.open(pair.first.preview.path) as view:
        assert overlay.size == view.size
        # the turned copy, turned back, is the first picture again
        difference = np.abs(np.asarray(overlay, np.int16) - np.asarray(view.convert("RGB"), np.int16))
        assert difference.mean() < 15


@pytest.mark.django_db
def test_it_says_the_transform_in_words(alice_client, finished_run):
    html = alice_client.get(f"/runs/{finished_run.code}/pairs/1/").content.decode()
    assert "the shared part is 100% of the first image and 100% of the second image" in html
    assert "same contrast and brightness" in html
    assert f"/runs/{finished_run.code}/pairs/1/overlay.jpg" in html


@pytest.mark.django_db
def test_bob_gets_404_for_the_overlay(bob_client, finished_run):
    assert bob_client.get(f"/runs/{finished_run.code}/pairs/1/overlay.jpg").status_code == 404


@pytest.fixture
def run_with_copies_inside(alice, tmp_path) -> Run:
    """A figure whose two panels show one picture, beside a picture with a region pasted elsewhere in it."""
    run = Run.objects.create(owner=alice)
    figure = np.full((400, 940, 3), 255, np.uint8)
    figure[40:340, 40:440] = scene(53, 400, 300)
    figure[40:340, 500:900] = scene(53, 400, 300)[:, ::-1]
    cloned = scene(54, 640, 480)
    cloned[280:440, 400:600] = cloned[60:220, 40:240]
    for name, picture in (("figure.png", figure), ("cloned.png", cloned)):
        Upload.store(run, png_upload(name, picture, tmp_path), name)
    assert QueueRunner("test worker").run_next()
    return run


@pytest.mark.django_db
def test_copies_inside_one_figure_or_picture_are_shown_as_such(alice_client, run_with_copies_inside):
    run = run_with_copies_inside
    html = alice_client.get(f"/runs/{run.code}/").content.decode()
    assert "figure.png#panel=1</span> <span aria-hidden" in html
    assert "(two panels of one figure show the same picture)" in html
    assert "(a region of the picture appears a second time in it)" in html
    assert f"/runs/{run.code}/items/{run.items.get(name='figure.png').number}/panels/2.jpg" in html
    clone = run.pairs.get(first__name="cloned.png", second__name="cloned.png")
    page = alice_client.get(f"/runs/{run.code}/pairs/{clone.rank}/").content.decode()
    assert "A region of the picture appears a second time in it: both places are outlined below" in page


@pytest.mark.django_db
def test_a_pair_that_is_no_finding_is_never_drawn(alice_client, finished_run):
    unconfirmed = finished_run.pairs.filter(verdict="").first()
    assert unconfirmed is not None
    assert alice_client.get(f"/runs/{finished_run.code}/pairs/{unconfirmed.rank}/").status_code == 404
    assert alice_client.get(f"/runs/{finished_run.code}/pairs/{unconfirmed.rank}/overlay.jpg").status_code == 404


@pytest.mark.django_db
def test_a_pair_of_panels_is_told_and_drawn_in_panel_terms(alice_client, run_with_copies_inside):
    run = run_with_copies_inside
    figure = run.items.get(name="figure.png")
    pair = run.pairs.get(first=figure, second=figure)
    assert (pair.first_panel, pair.second_panel) == (1, 2)
    page = alice_client.get(f"/runs/{run.code}/pairs/{pair.rank}/").content.decode()
    assert "<dt>First panel</dt>" in page and "<dt>Second panel</dt>" in page
    assert re.search(
        r"figure.png#panel=1 \(panel 1 of figure.png: 40\d × 30\d px at \d+, \d+ in the 940 × 400 px", page
    )
    assert re.search(r"the shared part is (9\d|100)% of the first panel and (9\d|100)% of the second panel", page)
    # the panels are drawn, not the figure: two pictures of about 4:3, and regions within them
    panels = f"/runs/{run.code}/items/{figure.number}/panels/"
    assert f'href="{panels}1.jpg?size=view"' in page and f'href="{panels}2.jpg?size=view"' in page
    assert f'src="{panels}1.jpg?size=view"' in page  # the overlay's base
    width, height = (float(v) for v in re.search(r'<svg viewBox="0 0 ([\d.]+) ([\d.]+)"', page).groups())
    assert width == pytest.approx(2 * height * 400 / 300 + 24, rel=0.05)
    view = alice_client.get(f"{panels}1.jpg", {"size": "view"})
    thumbnail = alice_client.get(f"{panels}1.jpg")
    with Image.open(io.BytesIO(view.content)) as big, Image.open(io.BytesIO(thumbnail.content)) as small:
        assert big.width > small.width == 256
        assert big.width / big.height == pytest.approx(4 / 3, rel=0.05)
    overlay = alice_client.get(f"/runs/{run.code}/pairs/{pair.rank}/overlay.jpg")
    with Image.open(io.BytesIO(overlay.content)) as laid:
        assert (laid.width, laid.height) == (big.width, big.height)
